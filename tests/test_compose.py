"""``docker-compose.yml`` hangs together (Docker's engine is not available to run it):
every dependency is a service with the condition it waits for, migrations run once
before the API, and several API processes share Redis."""

from __future__ import annotations

from pathlib import Path

import yaml

COMPOSE = yaml.safe_load((Path(__file__).resolve().parents[1] / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_every_dependency_is_a_service_waited_for_properly():
    for name, service in SERVICES.items():
        for dependency, how in service.get("depends_on", {}).items():
            assert dependency in SERVICES, (name, dependency)
            wanted = (
                "service_completed_successfully" if dependency == "migrate" else "service_healthy"
            )
            assert how["condition"] == wanted, (name, dependency)
            if wanted == "service_healthy":
                assert "healthcheck" in SERVICES[dependency], dependency


def test_migrations_run_once_before_several_api_processes_on_redis():
    assert SERVICES["migrate"]["command"] == ["ogcrm", "db", "upgrade"]
    api = SERVICES["api"]["command"]
    assert "--upgrade" not in api and int(api[api.index("--workers") + 1]) > 1
    for name in ("migrate", "api", "worker"):
        env = SERVICES[name]["environment"]
        assert env["OGCRM_REDIS_URL"].startswith("redis://"), name
        assert env["OGCRM_DATABASE_URL"].startswith("postgresql"), name
    named_volumes = set(COMPOSE["volumes"])
    for service in SERVICES.values():
        for volume in service.get("volumes", []):
            assert volume.split(":")[0] in named_volumes, volume
