"""Packaging beyond what pyproject.toml can say: the default configuration
(``config/``) and the sample data (``data/sample/``) ship inside the wheel as
the packages ``ecif_config`` and ``ecif_sample``, so that an installed ECIF (the
production image, a wheel in a fresh environment) runs ``ecif demo`` and finds
its code maps without a checkout. Everything else is in pyproject.toml."""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["ecif*", "matching*", "models*", "review_app*"],
                           exclude=["ecif_config*", "ecif_sample*"])
    + ["ecif_config", "ecif_sample", "ecif_sample.nights"],
    package_dir={"ecif_config": "config", "ecif_sample": "data/sample",
                 "ecif_sample.nights": "data/sample/nights"},
    package_data={"ecif_config": ["*.yaml"], "ecif_sample": ["*.csv"],
                  "ecif_sample.nights": ["*.csv"],
                  "models.migrations": ["script.py.mako"],
                  "review_app": ["templates/**/*", "static/**/*"]},
)
