"""The plan vocabulary: plan stubs, preprocessors, trajectories and plan schemas."""
