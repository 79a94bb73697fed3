"""A pause inside a writing transaction, for the failure tests (tests/core/test_worker_killed.py):
a worker started with LOOPCRM_FAULT_PAUSE_IN_TRANSACTION_S stops here, its writes uncommitted, and is
killed. Zero (the default) everywhere else."""

import time

from django.conf import settings


def pause_for_failure_tests() -> None:
    if settings.FAULT_PAUSE_IN_TRANSACTION_S:
        time.sleep(settings.FAULT_PAUSE_IN_TRANSACTION_S)
