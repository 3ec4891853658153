"""Test-environment harness: real services (PostgreSQL, MinIO, sample app, Kubernetes...) started
and stopped by code in the repository, shared by pytest, Molecule and `make demo`."""

from deploysafe_testenv.env import TestEnv, ServiceError, SERVICES  # noqa: F401
