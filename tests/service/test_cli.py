"""The administrator's catalog command: validate and import, all or nothing."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

from app.cli import main

CATALOG = Path(__file__).resolve().parents[2] / "app" / "catalog"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # The CLI reads its configuration from the environment, as in production.
    for key in [k for k in os.environ if k.startswith("BUCHUMEN_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("BUCHUMEN_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("BUCHUMEN_JWT_SECRET", "x" * 40)
    return tmp_path


def test_validate_accepts_the_shipped_catalog(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["catalog", "validate", str(CATALOG)]) == 0
    assert "matter(s) valid" in capsys.readouterr().err


def test_a_bad_file_is_rejected_naming_file_matter_and_field_and_nothing_is_imported(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = env / "catalog"
    shutil.copytree(CATALOG, folder)
    victim = sorted(folder.glob("*.yaml"))[0]
    text = victim.read_text(encoding="utf-8")
    victim.write_text(text.replace("copies: 1", "copies: 0", 1), encoding="utf-8")
    assert main(["catalog", "import", str(folder)]) == 1
    err = capsys.readouterr().err
    assert victim.name in err and "copies" in err and "nothing imported" in err
    # A good import afterwards starts from an empty catalog: nothing was half-imported.
    assert main(["catalog", "import", str(CATALOG)]) == 0
    out = capsys.readouterr().err
    assert f"imported: {len(list(CATALOG.glob('*.yaml')))} created" in out


def test_an_administrator_sets_a_halls_capacity_and_closed_day_from_the_command_line(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["catalog", "import", str(CATALOG)]) == 0
    assert main(["hall", "set", "mz", "--capacity", "6", "--close", "2026-12-31"]) == 0
    said = capsys.readouterr().err  # the console speaks on stderr, like the other commands
    assert "每时段 6 人" in said and "2026-12-31" in said


def test_a_half_hour_gets_its_own_places_and_a_typo_is_told_not_saved(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["hall", "set", "mz", "--capacity", "3"]) == 1  # nothing imported yet
    assert "事项目录还是空的" in capsys.readouterr().err
    assert main(["catalog", "import", str(CATALOG)]) == 0
    assert main(["hall", "set", "mz", "--slot", "11:30=1", "--slot", "16:30=0"]) == 0
    assert "（11:30 1 人、16:30 0 人）" in capsys.readouterr().err
    assert main(["hall", "set", "mz", "--slot", "12:00=2"]) == 1
    assert "12:00 不是大厅的半小时时段起点" in capsys.readouterr().err
    assert main(["hall", "set", "mzz", "--capacity", "3"]) == 1
    assert "没有部门代码为 mzz 的事项" in capsys.readouterr().err
    assert main(["hall", "set", "mz", "--slot", "16:30=default"]) == 0
    said = capsys.readouterr().err
    assert "11:30 1 人" in said and "16:30" not in said
    assert main(["hall", "set", "mz", "--no-show-limit", "2", "--restrict-days", "7"]) == 0
    assert "30 天内未到 2 次，暂停在线预约 7 天" in capsys.readouterr().err
    assert main(["hall", "set", "mz", "--no-show-limit", "0"]) == 1
    assert "未到次数上限应在 1 到 20 之间" in capsys.readouterr().err
    assert main(["hall", "restricted"]) == 0
    assert "目前没有被限制在线预约的申请人" in capsys.readouterr().err


def test_an_administrator_sets_a_departments_courier_counter_checked_like_an_address(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    place = ["--province", "福建省", "--city", "福州市", "--district", "晋安区"]
    good = ["--name", "市交通运输局政务服务窗口", "--mobile", "13859100000", *place]
    assert main(["counter", "set", "jtys", *good, "--address", "福新东路 268 号"]) == 2
    assert "事项目录还是空的" in capsys.readouterr().err  # nothing imported yet
    assert main(["catalog", "import", str(CATALOG)]) == 0
    assert main(["counter", "set", "jtyz", *good, "--address", "福新东路 268 号"]) == 2
    assert "没有部门代码为 jtyz 的事项" in capsys.readouterr().err  # a typo is told, not saved
    assert main(["counter", "set", "jtys", *good, "--address", "福新东路 268 号"]) == 0
    assert "jtys：市交通运输局政务服务窗口" in capsys.readouterr().err
    assert main(["counter", "set", "jtys", *good[:2], "--mobile", "123", *place]) == 2
    said = capsys.readouterr().err
    assert "11 位手机号码" in said and "请填写详细地址" in said
    assert main(["counter", "list"]) == 0
    assert "福新东路 268 号" in capsys.readouterr().err  # the bad one changed nothing


@pytest.mark.parametrize(
    ("command", "variable"), [("serve", "BUCHUMEN_PORT"), ("worker", "BUCHUMEN_WORKER_PORT")]
)
def test_a_port_in_use_is_said_with_the_setting_to_change_instead_of_a_traceback(
    env: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    variable: str,
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setenv(variable, str(port))
        assert main([command, "--demo"]) == 1
    said = capsys.readouterr().err
    assert f"port {port} is in use" in said and variable in said
    assert "Traceback" not in said
