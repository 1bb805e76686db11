"""Bundled plugin: live feedback callbacks (live_table, live_plot, best_effort, peak_stats)."""
