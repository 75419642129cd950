"""Ratio benchmarks for pulumi-miget (``make bench``; never part of ``make test``).

Run from the repository root::

    make bench                                  # = .venv/bin/python -m benchmarks
    .venv/bin/python -m benchmarks --quick      # fewer repetitions (~20 s)
    .venv/bin/python -m benchmarks P1 P3        # a subset
    .venv/bin/python -m benchmarks --json results.json   # also write the results as JSON
    .venv/bin/python -m benchmarks --strict     # exit 1 when a target is missed

Every timing is a **ratio measured inside one run**: the two sides are interleaved (their order
alternates between repetitions), so machine noise and drift cancel. Each benchmark prints the
median ratio, its spread (interquartile range and min–max of the per-repetition ratios) and the
target with PASS/MISS; a final table sums up. A full run takes under a minute on 2 cores.

P1 lifecycle overhead (target ≤ 1.15×)
    200 credentials checked, created, diffed, read, updated and deleted through the SDK's real
    provider server (``python -u -m pulumi.dynamic``, driven over gRPC by the engine harness in
    ``pulumi_miget.testing``) against the emulator, ÷ the same through the same kind of server
    by ``baseline_provider.py``, a bare-minimum provider making the same HTTP calls with raw
    ``requests``. The protocol's fixed cost is on both sides, so the ratio is our code's
    overhead. Also reported: ours through gRPC ÷ the same HTTP calls made with ``requests``
    in-process, i.e. what the engine protocol itself costs. Sequential (one call at a time).
P2 HTTP calls per operation (target 0, 0, 1, 1, 1, 1; adopt ≤ 2)
    Calls the emulator's request log records for check, diff, create, read, update, delete,
    and for create with ``adopt=True`` over an existing credential of the same name.
P3 ``__provider`` size (target ≤ 200 characters)
    Length of the base64 blob ``serialize_provider`` makes of the provider: by-reference
    pickling keeps it to a module path and a class name.
P4 import overhead (target ≤ 1.10×)
    ``python -c "import pulumi_miget"`` ÷ ``python -c "import pulumi"``, fresh interpreters,
    30 runs each interleaved; plus the modules ``-X importtime`` shows on top of ``pulumi``.
P5 parallelism (target ≤ 0.30×)
    100 creates with 20 ms of emulator latency, issued from 8 client threads through the
    server's 4 workers ÷ the same 100 one at a time. Ideal ≈ 1/4.
P6 emulator throughput (no target)
    Requests/s the emulator serves to 4 client threads (own keep-alive sessions, GET list /
    GET show), in-process (as the tests use it) and as the ``miget-emulator`` process.
P11 offline kit overhead (no target)
    ``OfflineStack.up()`` (``pulumi_miget.testing``) of a program with 20 credentials on a stack
    already up (every step ``same``) ÷ the same program under bare ``pulumi.runtime.set_mocks``
    with trivial mocks; also with one provider server shared by every command.

Modules: ``_support`` (result record, ratio statistics, emulator and provider-server setup),
``baseline_provider`` (P1's comparison provider), one ``pN_*`` module per benchmark, each with
``ID`` and ``run(quick) -> list[Result]``; ``__main__`` runs them and prints the table.
"""
