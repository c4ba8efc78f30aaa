"""Packages of the distribution (everything else is in pyproject.toml): vsq's, and the repository's suites/
folder installed as vsq.suites so that `pytest --config FILE` finds them in any folder."""

from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["vsq", "vsq.*"]), "vsq.suites"], package_dir={"vsq.suites": "suites"})
