"""The classroom wing: what a studio shared with a class adds around the tabs."""
