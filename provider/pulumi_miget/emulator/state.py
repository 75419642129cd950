"""``Emulator``: everything one emulator instance knows, without Flask. The Flask app keeps one
(``http.emulator_of``); ``EmulatorServer`` and the control API act on it."""

from __future__ import annotations

from pulumi_miget.emulator.deploy_settings import DEFAULT_DEPLOY_SECONDS, DeployPlan
from pulumi_miget.emulator.faults import MAX_DELAY_SECONDS, FaultPlan, RequestLog, is_seconds
from pulumi_miget.emulator.store import Store
from pulumi_miget.emulator.tenancy import Tenancy, normalise_workspace_id

__all__ = ["Emulator"]


class Emulator:
    """Everything one emulator instance knows: credentials, apps and deployments (the store),
    tenancy, faults, log, latency, and how the next deployments behave (``deploys``).

    ``deploy_seconds``: how long deployments take by default (``--deploy-seconds``); ValueError
    unless it is 0..86400 seconds."""

    def __init__(
        self, store: Store, tenancy: Tenancy, *, deploy_seconds: float = DEFAULT_DEPLOY_SECONDS
    ) -> None:
        self.store = store
        self.tenancy = tenancy
        self.deploys = DeployPlan(deploy_seconds)
        self.faults = FaultPlan()
        self.log = RequestLog()
        self.latency = 0.0  # seconds; a float assignment is atomic, so no lock

    def reset(self) -> None:
        self.store.clear()  # credentials, apps and deployments
        self.deploys.reset()  # back to the start-up settings
        self.faults.clear()
        self.log.clear()
        self.tenancy.clear_suspensions()
        self.latency = 0.0

    def suspend(self, workspace_id: str, suspended: bool = True) -> None:
        """ValueError for a non-UUID, KeyError for a workspace the emulator does not know."""
        workspace = normalise_workspace_id(workspace_id)
        if workspace not in self.tenancy.workspaces:
            raise KeyError(workspace)
        self.tenancy.set_suspended(workspace, suspended)

    def set_latency(self, seconds: object) -> None:
        if not is_seconds(seconds):
            raise ValueError("seconds must be a non-negative number")
        if seconds > MAX_DELAY_SECONDS:  # [INF] as a fault's delay
            raise ValueError(f"seconds must be at most {MAX_DELAY_SECONDS}")
        self.latency = float(seconds)
