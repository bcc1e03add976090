from __future__ import annotations

import os

import pytest

from grader.lib.redis import broker_client


def test_a_filesystem_broker_has_no_redis_client(settings):
    settings.CELERY_BROKER_URL = "filesystem://"
    assert broker_client(timeout=1) is None


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (a real Redis)")
def test_the_broker_client_reaches_the_real_redis(settings):
    settings.CELERY_BROKER_URL = os.environ["REDIS_URL"]
    client = broker_client(timeout=2)
    assert client is not None and client.ping() is True
