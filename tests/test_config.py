"""Settings: zero-configuration defaults, OGCRM_* variables, .env, the kept secret key."""

from __future__ import annotations

import multiprocessing
import stat
from pathlib import Path

import pytest

from ogcrm.config import SECRET_KEY_FILENAME, ConfigError, Settings, load_or_create_secret_key


class TestDefaults:
    def test_no_configuration_means_sqlite_in_data_dir_and_in_process_broker(self, tmp_path: Path):
        settings = Settings.from_env({}, env_file=tmp_path / "absent.env", data_dir=tmp_path)
        assert settings.database_url == f"sqlite:///{tmp_path / 'ogcrm.db'}"
        assert settings.is_sqlite
        assert not settings.uses_redis

    def test_default_data_dir_is_the_working_directory(self, tmp_path: Path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        settings = Settings.from_env({})
        assert settings.database_url == f"sqlite:///{tmp_path / 'ogcrm.db'}"


class TestEnvironment:
    def test_prefixed_variables_are_read_and_typed(self, tmp_path: Path):
        settings = Settings.from_env(
            {
                "OGCRM_DATABASE_URL": "postgresql://db/ogcrm",
                "OGCRM_REDIS_URL": "redis://cache:6379/0",
                "OGCRM_DEBUG": "yes",
                "OGCRM_MAX_PAGE_SIZE": "50",
                "OGCRM_DATA_DIR": str(tmp_path),
                "UNRELATED": "ignored",
            },
            env_file=tmp_path / "absent.env",
        )
        assert settings.database_url == "postgresql://db/ogcrm"
        assert settings.uses_redis
        assert settings.debug is True
        assert settings.max_page_size == 50
        assert settings.data_dir == tmp_path

    def test_env_file_is_read_and_the_environment_wins(self, tmp_path: Path):
        env_file = tmp_path / ".env"
        env_file.write_text('OGCRM_REDIS_URL="redis://from-file"\nOGCRM_LOG_LEVEL=DEBUG\n')
        settings = Settings.from_env({"OGCRM_LOG_LEVEL": "WARNING"}, env_file=env_file)
        assert settings.redis_url == "redis://from-file"
        assert settings.log_level == "WARNING"

    @pytest.mark.parametrize(
        ("variable", "value", "message"),
        [
            ("OGCRM_DEBUG", "maybe", "OGCRM_DEBUG='maybe' is not a boolean"),
            ("OGCRM_MAX_PAGE_SIZE", "lots", "OGCRM_MAX_PAGE_SIZE='lots' is not an integer"),
            ("OGCRM_MAX_PAGE_SIZE", "0", "OGCRM_MAX_PAGE_SIZE must be at least 1"),
            ("OGCRM_JOB_LEASE", "-1", "OGCRM_JOB_LEASE is seconds and cannot be negative"),
            ("OGCRM_RECONCILE_EVERY", "soon", "OGCRM_RECONCILE_EVERY='soon' is not an integer"),
        ],
    )
    def test_a_bad_value_names_the_variable(self, tmp_path: Path, variable, value, message):
        with pytest.raises(ConfigError, match=message):
            Settings.from_env({variable: value}, env_file=tmp_path / "absent.env")


def _key_in(path: str) -> str:
    return load_or_create_secret_key(Path(path))


class TestSecretKey:
    def test_generated_on_first_run_then_kept(self, tmp_path: Path):
        first = Settings(data_dir=tmp_path).with_secret_key().secret_key
        second = Settings(data_dir=tmp_path).with_secret_key().secret_key
        assert len(first) >= 32
        assert first == second
        key_file = tmp_path / SECRET_KEY_FILENAME
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    def test_configured_key_is_used_and_nothing_written(self, tmp_path: Path):
        settings = Settings(data_dir=tmp_path, secret_key="k" * 40).with_secret_key()
        assert settings.secret_key == "k" * 40
        assert not (tmp_path / SECRET_KEY_FILENAME).exists()

    def test_processes_starting_together_agree_on_one_key(self, tmp_path: Path):
        with multiprocessing.get_context("spawn").Pool(4) as pool:
            keys = pool.map(_key_in, [str(tmp_path)] * 8)
        assert len(set(keys)) == 1
        assert [p.name for p in tmp_path.iterdir()] == [SECRET_KEY_FILENAME]

    def test_a_damaged_key_file_is_refused_with_the_fix(self, tmp_path: Path):
        (tmp_path / SECRET_KEY_FILENAME).write_text("short\n")
        with pytest.raises(ConfigError, match="delete it to generate a new one"):
            load_or_create_secret_key(tmp_path)
