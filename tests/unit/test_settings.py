"""Settings are typed, fail fast naming the variable at fault, and never show a secret."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from app.settings import DEMO_KEY_FILE, Settings, SettingsError, load_settings

SECRET = "s3cr3t-" * 6


def problems_of(environ: dict[str, str], **overrides: object) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        load_settings(environ, **overrides)
    return caught.value.problems


def test_a_port_that_is_not_a_number_is_refused_naming_the_variable(tmp_path: Path) -> None:
    problems = problems_of(
        {"BUCHUMEN_PORT": "abc", "BUCHUMEN_DEMO": "true", "BUCHUMEN_DATA_DIR": str(tmp_path)}
    )
    assert problems == ["BUCHUMEN_PORT: must be an integer between 1 and 65535 (got 'abc')"]


def test_a_port_out_of_range_is_refused(tmp_path: Path) -> None:
    problems = problems_of({"BUCHUMEN_PORT": "70000", "BUCHUMEN_JWT_SECRET": SECRET})
    assert problems == ["BUCHUMEN_PORT: must be an integer between 1 and 65535 (got '70000')"]


def test_mongodb_without_a_uri_is_refused_naming_the_uri_variable() -> None:
    problems = problems_of({"BUCHUMEN_DOCUMENT_STORE": "mongodb", "BUCHUMEN_JWT_SECRET": SECRET})
    assert problems == ["BUCHUMEN_MONGODB_URI: required when BUCHUMEN_DOCUMENT_STORE=mongodb"]


def test_minio_without_its_endpoint_and_keys_names_every_missing_variable() -> None:
    problems = problems_of({"BUCHUMEN_OBJECT_STORE": "minio", "BUCHUMEN_JWT_SECRET": SECRET})
    assert [problem.split(":")[0] for problem in problems] == [
        "BUCHUMEN_MINIO_ENDPOINT",
        "BUCHUMEN_MINIO_ACCESS_KEY",
        "BUCHUMEN_MINIO_SECRET_KEY",
    ]


@pytest.mark.parametrize("url", ["minio.example.cn:9000", "ftp://x", "https://example.cn/minio"])
def test_the_minio_public_url_is_a_scheme_and_host_only(url: str) -> None:
    problems = problems_of({"BUCHUMEN_MINIO_PUBLIC_URL": url, "BUCHUMEN_JWT_SECRET": SECRET})
    assert problems == [
        f"BUCHUMEN_MINIO_PUBLIC_URL: must be http(s)://host[:port] without a path (got '{url}')"
    ]


def test_every_bad_variable_is_reported_at_once() -> None:
    problems = problems_of(
        {"BUCHUMEN_LOG_FORMAT": "xml", "BUCHUMEN_DEMO": "maybe", "BUCHUMEN_JWT_SECRET": SECRET}
    )
    assert len(problems) == 2
    assert problems[0].startswith("BUCHUMEN_DEMO: must be a valid boolean")
    assert problems[1] == "BUCHUMEN_LOG_FORMAT: must be 'json' or 'console' (got 'xml')"


def test_a_misspelt_variable_is_an_error_rather_than_silently_ignored() -> None:
    problems = problems_of({"BUCHUMEN_PROT": "9000", "BUCHUMEN_JWT_SECRET": SECRET})
    assert problems == ["BUCHUMEN_PROT: not a known setting"]


def test_outside_demo_mode_a_jwt_secret_is_required() -> None:
    assert problems_of({}) == ["BUCHUMEN_JWT_SECRET: required unless BUCHUMEN_DEMO=true"]


def test_a_short_jwt_secret_is_refused_without_echoing_it() -> None:
    problems = problems_of({"BUCHUMEN_JWT_SECRET": "hunter2"})
    assert problems == ["BUCHUMEN_JWT_SECRET: must be at least 32 characters long"]


def test_values_are_parsed_from_strings_and_empty_variables_count_as_unset(
    tmp_path: Path,
) -> None:
    settings = load_settings(
        {
            "BUCHUMEN_PORT": "9000",
            "BUCHUMEN_DEMO": "1",
            "BUCHUMEN_DATA_DIR": str(tmp_path),
            "BUCHUMEN_LOG_LEVEL": "debug",
            "BUCHUMEN_SQLITE_PATH": "",
            "PATH": "/usr/bin",
        }
    )
    assert settings.port == 9000
    assert settings.demo is True
    assert settings.log_level == "DEBUG"
    assert settings.resolved_sqlite_path == tmp_path / "buchumen.sqlite3"
    assert settings.resolved_objects_dir == tmp_path / "objects"


def test_command_line_overrides_win_over_the_environment(tmp_path: Path) -> None:
    settings = load_settings({"BUCHUMEN_PORT": "9000"}, demo=True, data_dir=tmp_path, port=9100)
    assert settings.port == 9100
    assert settings.demo is True


def test_repr_masks_every_secret() -> None:
    settings = Settings(
        jwt_secret=SecretStr(SECRET),
        document_store="mongodb",
        mongodb_uri=SecretStr("mongodb://app:mongo-password@db:27017/?replicaSet=rs0"),
        object_store="minio",
        minio_endpoint="minio:9000",
        minio_access_key=SecretStr("minio-access"),
        minio_secret_key=SecretStr("minio-password"),
    )
    shown = repr(settings) + str(settings)
    for secret in (SECRET, "mongo-password", "minio-access", "minio-password"):
        assert secret not in shown
    assert settings.jwt_key == SECRET


def test_direct_construction_ignores_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BUCHUMEN_PORT", "9999")
    monkeypatch.setenv("BUCHUMEN_DOCUMENT_STORE", "mongodb")
    settings = Settings(demo=True, data_dir=tmp_path)
    assert settings.port == 8080
    assert settings.document_store == "sqlite"


def test_demo_mode_persists_one_jwt_secret_per_data_dir_and_reuses_it(tmp_path: Path) -> None:
    first = Settings(demo=True, data_dir=tmp_path / "a")
    again = Settings(demo=True, data_dir=tmp_path / "a")
    other = Settings(demo=True, data_dir=tmp_path / "b")

    key_file = tmp_path / "a" / DEMO_KEY_FILE
    assert len(first.jwt_key) >= 32
    assert again.jwt_key == first.jwt_key
    assert other.jwt_key != first.jwt_key
    assert key_file.read_text().strip() == first.jwt_key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [DEMO_KEY_FILE]


def test_an_explicit_jwt_secret_wins_over_the_demo_one(tmp_path: Path) -> None:
    settings = Settings(demo=True, data_dir=tmp_path, jwt_secret=SECRET)  # type: ignore[arg-type]
    assert settings.jwt_key == SECRET
    assert not (tmp_path / DEMO_KEY_FILE).exists()


def test_settings_are_frozen(tmp_path: Path) -> None:
    settings = Settings(demo=True, data_dir=tmp_path)
    with pytest.raises(ValueError, match="frozen"):
        settings.port = 1


def test_the_public_base_url_follows_host_and_port_unless_set(tmp_path: Path) -> None:
    assert Settings(demo=True, data_dir=tmp_path).public_base_url == "http://127.0.0.1:8080"
    moved = Settings(demo=True, data_dir=tmp_path, host="0.0.0.0", port=9000)  # noqa: S104
    assert moved.public_base_url == "http://127.0.0.1:9000"
    public = Settings(demo=True, data_dir=tmp_path, port=9000, public_base_url="https://x.gov.cn/")
    assert public.public_base_url == "https://x.gov.cn"


def test_the_ocr_engine_and_pool_are_chosen_by_configuration(tmp_path: Path) -> None:
    base = {"BUCHUMEN_DEMO": "true", "BUCHUMEN_DATA_DIR": str(tmp_path)}
    assert load_settings(base).ocr_engine == "rapidocr"  # the default chosen by bench ocr
    chosen = load_settings(base | {"BUCHUMEN_OCR_ENGINE": "tesseract", "BUCHUMEN_OCR_WORKERS": "4"})
    assert (chosen.ocr_engine, chosen.ocr_workers) == ("tesseract", 4)
    problems = problems_of(base | {"BUCHUMEN_OCR_ENGINE": "paddle", "BUCHUMEN_OCR_WORKERS": "0"})
    assert [p.split(":")[0] for p in problems] == ["BUCHUMEN_OCR_ENGINE", "BUCHUMEN_OCR_WORKERS"]
