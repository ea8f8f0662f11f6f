"""ECIF application layer: settings and the ``ecif`` command line."""
