"""The server is threaded: concurrent clients are served, and the store stays consistent."""

from __future__ import annotations

import threading

from tests.emulator.helpers import Api, github_credential


def test_concurrent_creates_of_one_name_produce_exactly_one_credential(api: Api) -> None:
    statuses: list[int] = []

    def create() -> None:
        statuses.append(api.post(github_credential(name="race")).status_code)

    threads = [threading.Thread(target=create) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [201] + [422] * 11
    assert len(api.list().json()) == 1


def test_concurrent_creates_of_distinct_names_all_succeed(api: Api) -> None:
    statuses: list[int] = []

    def create(index: int) -> None:
        statuses.append(api.post(github_credential(name=f"cred-{index}")).status_code)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [201] * 12
    assert len({c["created_at"] for c in api.list().json()}) == 12
