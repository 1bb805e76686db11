"""pytest plugin (entry point pytest11 ``cielo``): fixtures from :mod:`cielo.testing`."""
