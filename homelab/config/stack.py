"""The whole config of one stack: ``homelab:cluster`` (:mod:`homelab.config.cluster`), and
``homelab:release``, ``homelab:apps`` and ``homelab:promotion`` (:mod:`homelab.config.models`).
"""

from __future__ import annotations

from pydantic import Field

from homelab.config.cluster import Cluster
from homelab.config.models import App, Model, Promotion, Release


class StackConfig(Model):
    cluster: Cluster
    release: Release
    apps: list[App] = Field(default_factory=list)
    promotion: Promotion = Promotion()
