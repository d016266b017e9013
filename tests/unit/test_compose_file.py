"""What an operator relies on in storage/compose.yaml, storage/nginx.conf and storage/.env.example.

No Docker here: the files are read as Docker and nginx read them, and the app's own settings
check is run on the environment the compose file gives the service.
"""

from __future__ import annotations

import http.server
import ipaddress
import json
import os
import re
import secrets
import signal
import socketserver
import string
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.services.materials import MAX_MATERIAL_BYTES
from app.settings import Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]
STORAGE = ROOT / "storage"
COMPOSE = yaml.safe_load((STORAGE / "compose.yaml").read_text(encoding="utf-8"))
SERVICES: dict[str, Any] = COMPOSE["services"]
NGINX = (STORAGE / "nginx.conf").read_text(encoding="utf-8")
ENV_EXAMPLE = (STORAGE / ".env.example").read_text(encoding="utf-8")
APP_ROLES = ("web", "worker")

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}
REFERENCE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-?])?(?P<arg>[^}]*)\}")
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|AES_KEY|ACCESS_KEY|SET_KEY|CHECK_WORD")
# Secrets of providers the service runs without (couriers, real-name check): empty means off.
OPTIONAL_SECRETS = {
    "BUCHUMEN_SF_CHECK_WORD",
    "BUCHUMEN_TENCENT_SECRET_ID",
    "BUCHUMEN_TENCENT_SECRET_KEY",
}
# Settings of the process roles being added beside this file; checked once Settings has them.
ROLE_SETTINGS = {"BUCHUMEN_OCR_IN_WEB", "BUCHUMEN_WORKER_PORT"}


def references(node: Any) -> list[re.Match[str]]:
    """Every ``${...}`` in the compose file, wherever it stands."""
    if isinstance(node, dict):
        return [m for key, value in node.items() for m in references(key) + references(value)]
    if isinstance(node, list):
        return [m for item in node for m in references(item)]
    return list(REFERENCE.finditer(node)) if isinstance(node, str) else []


def env_example_names() -> set[str]:
    return set(re.findall(r"^([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE, flags=re.MULTILINE))


def sample_value(name: str) -> str:
    """A value of the shape .env.example asks for, as an operator would fill it in."""
    samples = {
        "BUCHUMEN_PUBLIC_BASE_URL": "https://gov.example.cn",
        "BUCHUMEN_MINIO_PUBLIC_URL": "https://objects.example.cn",
        "BUCHUMEN_WECHAT_APPID": "wx" + secrets.token_hex(8),
        "BUCHUMEN_WECHAT_ENCODING_AES_KEY": "".join(
            secrets.choice(string.ascii_letters + string.digits) for _ in range(43)
        ),
    }
    return samples.get(name, secrets.token_hex(32))


def interpolate(value: str, env: dict[str, str]) -> str:
    """Resolve ``${...}`` as Docker Compose does; a missing required value raises."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"] or "", match["arg"]
        given = env.get(name, "")
        if op.endswith("?") and not given:
            raise LookupError(arg)
        return given or (arg if op.endswith("-") else "")

    return REFERENCE.sub(one, value)


def resolved_environment(service: str, env: dict[str, str]) -> dict[str, str]:
    return {k: interpolate(str(v), env) for k, v in SERVICES[service]["environment"].items()}


def required_filled() -> dict[str, str]:
    """Every variable the compose file requires, filled in."""
    return {
        m["name"]: sample_value(m["name"])
        for m in references(COMPOSE)
        if (m["op"] or "").endswith("?")
    }


def seconds(duration: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return sum(float(n) * units[u] for n, u in re.findall(r"([0-9.]+)(ms|s|m|h)", str(duration)))


def nginx_size(value: str) -> int:
    number, unit = re.fullmatch(r"([0-9]+)([kKmMgG]?)", value).groups()  # type: ignore[union-attr]
    return int(number) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit.lower()]


def nginx_directives(name: str, block: str = "") -> list[str]:
    """The arguments of every ``name`` directive, within the first ``block {...}`` if given."""
    text = re.sub(r"#.*", "", NGINX)
    if block:
        text = text.split(block, 1)[1].split("}", 1)[0]
    return [m.strip() for m in re.findall(rf"(?:^|[;{{}}\s]){name}\s+([^;]*);", text)]


@pytest.mark.parametrize("service", APP_ROLES)
def test_web_and_worker_publish_no_host_port_so_they_scale(service: str) -> None:
    assert "ports" not in SERVICES[service]
    assert "container_name" not in SERVICES[service]


@pytest.mark.parametrize(("service", "port"), [("web", 8080), ("worker", 8090)])
def test_web_and_worker_are_checked_for_readiness_not_liveness(service: str, port: int) -> None:
    test = " ".join(SERVICES[service]["healthcheck"]["test"])
    assert f"http://127.0.0.1:{port}/readyz" in test


def test_the_balancer_waits_for_healthy_web_replicas() -> None:
    assert SERVICES["lb"]["depends_on"]["web"]["condition"] == "service_healthy"


def test_each_role_runs_its_command_and_web_leaves_ocr_to_the_workers() -> None:
    assert SERVICES["web"]["command"] == ["buchumen", "serve"]
    assert SERVICES["worker"]["command"] == ["buchumen", "worker"]
    assert SERVICES["web"]["environment"]["BUCHUMEN_OCR_IN_WEB"] == "false"
    assert "BUCHUMEN_OCR_IN_WEB" not in SERVICES["worker"]["environment"]


@pytest.mark.parametrize("service", APP_ROLES)
def test_docker_waits_longer_than_the_services_own_stop(service: str) -> None:
    default_grace = Settings.model_fields["shutdown_grace"].default
    given = int(SERVICES[service]["environment"].get("BUCHUMEN_SHUTDOWN_GRACE", default_grace))
    assert seconds(SERVICES[service]["stop_grace_period"]) > max(default_grace, given)


def test_every_variable_is_required_with_a_message_or_has_a_default() -> None:
    for match in references(COMPOSE):
        op, arg = match["op"] or "", match["arg"]
        assert op in {":?", ":-"}, f"{match[0]}: say what is missing (:?) or the default (:-)"
        if op == ":?":
            assert arg.strip(), f"{match[0]}: the message says what to set"


def test_every_secret_is_required_and_none_is_written_in_the_file() -> None:
    for match in references(COMPOSE):
        name = match["name"]
        if SECRET_NAME.search(name) and name not in OPTIONAL_SECRETS:
            assert match["op"] == ":?", f"{name} is a secret: required, never defaulted"
    for service in APP_ROLES:
        for key, value in SERVICES[service]["environment"].items():
            field = key.removeprefix("BUCHUMEN_").lower()
            annotation = (
                str(Settings.model_fields[field].annotation)
                if field in (Settings.model_fields)
                else ""
            )
            if "SecretStr" in annotation and key not in OPTIONAL_SECRETS:
                refs = REFERENCE.findall(str(value))
                assert refs, f"{key}: a secret comes from .env, not from the compose file"
                assert all(op == ":?" for _, op, _ in refs), f"{key}: required from .env"


def test_every_variable_is_listed_in_env_example() -> None:
    listed = env_example_names()
    missing = {m["name"] for m in references(COMPOSE)} - listed
    assert not missing, f"add to storage/.env.example: {sorted(missing)}"


def test_a_missing_secret_stops_compose_with_its_name() -> None:
    env = required_filled()
    del env["BUCHUMEN_JWT_SECRET"]
    with pytest.raises(LookupError, match="BUCHUMEN_JWT_SECRET"):
        resolved_environment("web", env)


@pytest.mark.parametrize("service", APP_ROLES)
def test_the_environment_given_is_one_the_service_starts_with(service: str) -> None:
    environment = resolved_environment(service, required_filled())
    known = {f"BUCHUMEN_{field.upper()}" for field in Settings.model_fields}
    environment = {k: v for k, v in environment.items() if k in known or k not in ROLE_SETTINGS}
    try:
        settings = load_settings(environment)
    except SettingsError as exc:  # pragma: no cover - the message is the point
        pytest.fail(f"buchumen {service} would not start: {exc}")
    assert settings.document_store == "mongodb" and settings.object_store == "minio"
    assert settings.wechat_configured and not settings.demo


def test_only_the_balancer_is_believed_about_client_addresses() -> None:
    lb = SERVICES["lb"]["networks"]["default"]["ipv4_address"]
    subnet = COMPOSE["networks"]["default"]["ipam"]["config"][0]["subnet"]
    assert ipaddress.ip_address(lb) in ipaddress.ip_network(subnet)
    for service in APP_ROLES:
        assert SERVICES[service]["environment"]["BUCHUMEN_TRUSTED_PROXIES"] == lb


def test_nginx_takes_the_largest_upload_the_app_takes() -> None:
    [size] = nginx_directives("client_max_body_size")
    assert nginx_size(size) >= MAX_MATERIAL_BYTES


def test_nginx_sends_traffic_to_every_web_replica_it_finds_by_name() -> None:
    [server] = nginx_directives("server", block="upstream buchumen_web {")
    address, *options = server.split()
    assert address == "web:8080" and "resolve" in options
    assert "web" in SERVICES and "8080" in SERVICES["web"]["expose"]
    assert nginx_directives("resolver")[0].split()[0] == "127.0.0.11"  # Docker's own DNS
    assert nginx_directives("zone")  # `resolve` needs the upstream in shared memory


def test_nginx_retries_another_replica_only_for_idempotent_requests() -> None:
    [retry] = nginx_directives("proxy_next_upstream")
    assert "error" in retry.split() and "non_idempotent" not in retry.split()


def test_nginx_passes_the_clients_address_and_scheme() -> None:
    headers = nginx_directives("proxy_set_header")
    assert "X-Forwarded-For $proxy_add_x_forwarded_for" in headers
    assert "X-Forwarded-Proto $scheme" in headers


def test_mounted_files_exist_beside_the_compose_file() -> None:
    for service in SERVICES.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./") and "$" not in source:
                assert (STORAGE / source).is_file(), source


def test_the_image_runs_whatever_command_compose_gives_it() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert not re.search(r"^ENTRYPOINT", dockerfile, flags=re.MULTILINE)
    assert re.search(r'^CMD \["buchumen", "serve"\]', dockerfile, flags=re.MULTILINE)


def _health_check(port: int, worker_port: int) -> int:
    """The exit status of the image's HEALTHCHECK command, run here with these ports."""
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    command = json.loads(re.search(r"HEALTHCHECK .*?\\\n\s+CMD (\[.*\])", dockerfile).group(1))
    assert command[:2] == ["python", "-c"]
    env = os.environ | {"BUCHUMEN_PORT": str(port), "BUCHUMEN_WORKER_PORT": str(worker_port)}
    run = [sys.executable, "-c", command[2]]  # the Dockerfile's own text, checked above
    return subprocess.run(run, env=env, timeout=30, check=False).returncode  # noqa: S603


def test_the_images_health_check_finds_serve_or_a_worker_on_its_own_port() -> None:
    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/healthz" else 404)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    with socketserver.TCPServer(("127.0.0.1", 0), Health) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        up = server.server_address[1]
        with socketserver.TCPServer(("127.0.0.1", 0), Health) as closed:
            down = closed.server_address[1]  # bound, then closed: nothing answers there
        try:
            assert _health_check(up, down) == 0  # buchumen serve
            assert _health_check(down, up) == 0  # buchumen worker
            assert _health_check(down, down) == 1  # neither answers: unhealthy
        finally:
            server.shutdown()


def test_the_trial_profile_runs_the_wechat_simulator_on_the_accounts_credentials() -> None:
    simulator = SERVICES["wechat-simulator"]
    assert simulator["profiles"] == ["trial"]
    assert simulator["command"][:3] == ["python", "-m", "bot.simulator"]
    for name in ("TOKEN", "ENCODING_AES_KEY", "APPID", "APPSECRET"):
        key = f"BUCHUMEN_WECHAT_{name}"
        assert simulator["environment"][key] == SERVICES["web"]["environment"][key]


def _clean_env(**given: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUCHUMEN_")}
    return env | given


def _start(module: str, args: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    """The simulator as its own process, and the URL its first line says it serves on."""
    process = subprocess.Popen(  # noqa: S603 - this interpreter, our own module
        [sys.executable, "-m", module, "--port=0", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    url = re.search(r" on (http://\S+?),", line)
    if url is None:
        process.kill()
        process.wait()
        pytest.fail(f"{module} did not say where it serves: {line!r}")
    return process, url[1]


def _stop(process: subprocess.Popen[str]) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_the_wechat_simulator_runs_as_a_process_of_its_own() -> None:
    env = _clean_env(
        BUCHUMEN_WECHAT_TOKEN="trial-token",
        BUCHUMEN_WECHAT_ENCODING_AES_KEY="a" * 43,
        BUCHUMEN_WECHAT_APPID="wx0123456789abcdef",
        BUCHUMEN_WECHAT_APPSECRET="trial-secret",
    )
    process, url = _start("bot.simulator", ["--callback-url=http://127.0.0.1:9/"], env)
    try:
        with urllib.request.urlopen(f"{url}/chat", timeout=5) as page:  # noqa: S310
            assert page.status == 200
    finally:
        stopped = _stop(process)
    assert stopped == 0


# -- the Alipay and SF simulators of the trial ---------------------------------------------------

TRIAL_SETTINGS = dict(
    re.findall(r"^#\s+(BUCHUMEN_[A-Z_]+)=(\S*)", ENV_EXAMPLE.split("-- Trial", 1)[1], re.M)
)


@pytest.mark.parametrize(
    ("service", "module", "names"),
    [
        ("alipay-simulator", "payments.simulator", ("ALIPAY_APP_ID", "ALIPAY_SELLER_ID")),
        ("sf-simulator", "logistics.simulator", ("SF_PARTNER_ID", "SF_CHECK_WORD")),
    ],
)
def test_the_trial_profile_runs_alipay_and_sf_on_the_services_credentials(
    service: str, module: str, names: tuple[str, ...]
) -> None:
    simulator = SERVICES[service]
    assert simulator["profiles"] == ["trial"]
    assert simulator["command"][:3] == ["python", "-m", module]
    for name in names:
        key = f"BUCHUMEN_{name}"
        assert simulator["environment"][key] == SERVICES["web"]["environment"][key]


def test_the_trial_keys_are_the_files_the_service_and_the_alipay_simulator_read() -> None:
    from payments.simulator.__main__ import KEY_FILES

    (app_private, app_public), (alipay_private, alipay_public) = KEY_FILES.values()
    made = SERVICES["trial-keys"]
    assert made["profiles"] == ["trial"] and "--make-keys /run/buchumen-keys" in made["command"][2]
    assert made["volumes"] == ["trial-keys:/run/buchumen-keys"]
    simulator = SERVICES["alipay-simulator"]
    assert simulator["volumes"] == ["trial-keys:/run/buchumen-keys:ro"]
    assert simulator["depends_on"]["trial-keys"]["condition"] == "service_completed_successfully"
    given = simulator["environment"]
    assert given["BUCHUMEN_ALIPAY_APP_PUBLIC_KEY_FILE"] == f"/run/buchumen-keys/{app_public}"
    assert (
        given["BUCHUMEN_ALIPAY_SIMULATOR_PRIVATE_KEY_FILE"]
        == f"/run/buchumen-keys/{alipay_private}"
    )
    # The web replicas mount the same volume where their key files are read.
    assert (
        TRIAL_SETTINGS["BUCHUMEN_KEYS_DIR"] == "trial-keys" and "trial-keys" in COMPOSE["volumes"]
    )
    assert "${BUCHUMEN_KEYS_DIR:-./keys}:/run/buchumen-keys:ro" in SERVICES["web"]["volumes"]
    assert TRIAL_SETTINGS["BUCHUMEN_ALIPAY_PRIVATE_KEY_FILE"] == f"/run/buchumen-keys/{app_private}"
    assert (
        TRIAL_SETTINGS["BUCHUMEN_ALIPAY_PUBLIC_KEY_FILE"] == f"/run/buchumen-keys/{alipay_public}"
    )


def test_the_trial_values_of_env_example_start_the_service_on_the_simulators(
    tmp_path: Path,
) -> None:
    from payments.simulator.__main__ import make_keys

    make_keys(tmp_path)
    env = required_filled() | {k: v for k, v in TRIAL_SETTINGS.items() if v}
    env["BUCHUMEN_SF_CHECK_WORD"] = secrets.token_urlsafe(48)
    environment = resolved_environment("web", env)
    environment = {
        k: v.replace("/run/buchumen-keys", str(tmp_path)) for k, v in environment.items()
    }
    environment = {k: v for k, v in environment.items() if k not in ROLE_SETTINGS}
    settings = load_settings(environment)
    assert settings.alipay_configured and settings.sf_configured
    assert settings.sf_api_url == "http://sf-simulator:8083/std/service"
    port = re.search(r":(\d+)/gateway\.do$", settings.alipay_gateway_url)
    assert port and f"{port[1]}:{port[1]}" in SERVICES["alipay-simulator"]["ports"][0]
    assert "--callback-url=http://lb:8080/sf/routes" in SERVICES["sf-simulator"]["command"]


def test_the_alipay_simulator_runs_as_a_process_of_its_own(tmp_path: Path) -> None:
    from payments.signing import (
        read_private_key,
        read_public_key,
        request_content,
        rsa2_sign,
        rsa2_verify,
    )

    made = subprocess.run(  # noqa: S603 - this interpreter, our own module
        [sys.executable, "-m", "payments.simulator", f"--make-keys={tmp_path}"],
        cwd=ROOT,
        env=_clean_env(),
        timeout=30,
        check=True,
    )
    assert made.returncode == 0
    env = _clean_env(
        BUCHUMEN_ALIPAY_APP_ID="2021000000000001",
        BUCHUMEN_ALIPAY_SELLER_ID="2088000000000001",
        BUCHUMEN_ALIPAY_APP_PUBLIC_KEY_FILE=str(tmp_path / "alipay-app-public-key.pem"),
        BUCHUMEN_ALIPAY_SIMULATOR_PRIVATE_KEY_FILE=str(
            tmp_path / "alipay-simulator-private-key.pem"
        ),
    )
    process, url = _start("payments.simulator", [], env)
    try:
        params = {
            "app_id": "2021000000000001",
            "method": "alipay.trade.query",
            "charset": "utf-8",
            "sign_type": "RSA2",
            "timestamp": "2026-01-05 10:00:00",
            "version": "1.0",
            "biz_content": json.dumps({"out_trade_no": "T1"}),
        }

        def ask(sign: str) -> tuple[dict[str, Any], str]:
            query = urllib.parse.urlencode(params | {"sign": sign})
            with urllib.request.urlopen(f"{url}?{query}", timeout=5) as answer:  # noqa: S310
                text = answer.read().decode()
            return json.loads(text), text

        app_key = read_private_key(tmp_path / "alipay-app-private-key.pem")
        forged = rsa2_sign(read_private_key(tmp_path / "alipay-simulator-private-key.pem"), "x")
        refused, _ = ask(forged)
        assert refused["alipay_trade_query_response"]["sub_code"] == "isv.invalid-signature"
        answered, text = ask(rsa2_sign(app_key, request_content(params)))
        node = answered["alipay_trade_query_response"]
        assert node["sub_code"] == "ACQ.TRADE_NOT_EXIST"  # verified: asked about the trade
        # Signed by the simulated Alipay: the service's alipay-public-key.pem verifies it.
        raw = re.search(r'_response":(\{.*?\}),"sign"', text)
        assert raw
        alipay_public = read_public_key(tmp_path / "alipay-public-key.pem")
        assert rsa2_verify(alipay_public, raw[1], answered["sign"])
        assert _stop(process) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_the_sf_simulator_runs_as_a_process_of_its_own_and_moves_a_booked_parcel() -> None:
    from logistics import sf_protocol as sf

    pushed: list[dict[str, str]] = []

    class Routes(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            pushed.append(dict(urllib.parse.parse_qsl(body)))
            answer = b'{"return_code":"0000","return_msg":"success"}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *_: Any) -> None:
            pass

    check_word = "trial-check-word"
    env = _clean_env(BUCHUMEN_SF_PARTNER_ID="TRIAL", BUCHUMEN_SF_CHECK_WORD=check_word)
    with socketserver.TCPServer(("127.0.0.1", 0), Routes) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        callback = f"http://127.0.0.1:{server.server_address[1]}/sf/routes"
        process, url = _start(
            "logistics.simulator", [f"--callback-url={callback}", "--travel=0.3"], env
        )
        try:
            contacts = [
                {"contactType": 1, "contact": "张三", "tel": "13800000000", "city": "杭州市"},
                {"contactType": 2, "contact": "窗口", "tel": "057100000000", "city": "杭州市"},
            ]
            data = sf.dumps({"orderId": "BCM-1", "contactInfoList": contacts})

            def call(check: str) -> dict[str, Any]:
                timestamp = str(int(time.time() * 1000))
                form = {
                    "partnerID": "TRIAL",
                    "requestID": secrets.token_hex(8),
                    "serviceCode": sf.CREATE_ORDER,
                    "timestamp": timestamp,
                    "msgData": data,
                    "msgDigest": sf.msg_digest(data, timestamp, check),
                }
                request = urllib.request.Request(  # noqa: S310 - the local simulator
                    url, data=urllib.parse.urlencode(form).encode(), method="POST"
                )
                with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310
                    return dict(json.loads(answer.read()))

            assert call("not-the-check-word")["apiResultCode"] == sf.API_BAD_DIGEST
            booked = call(check_word)
            assert booked["apiResultCode"] == sf.API_OK
            waybill = json.loads(booked["apiResultData"])["msgData"]["waybillNoInfoList"][0]
            deadline = time.monotonic() + 5
            while len(pushed) < 2 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert _stop(process) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            server.shutdown()
    assert len(pushed) >= 2, "the booked parcel was not scanned"
    first = pushed[0]
    assert sf.digest_matches(first["msgData"], first["timestamp"], check_word, first["msgDigest"])
    route = json.loads(first["msgData"])["Body"]["WaybillRoute"][0]
    assert route["mailno"] == waybill["waybillNo"] and route["opCode"] == "50"


@pytest.mark.parametrize(
    ("module", "args", "first"),
    [
        ("bot.simulator", ["--callback-url=http://127.0.0.1:9/"], "BUCHUMEN_WECHAT_TOKEN"),
        ("payments.simulator", [], "BUCHUMEN_ALIPAY_APP_ID"),
        ("logistics.simulator", ["--callback-url=http://127.0.0.1:9/"], "BUCHUMEN_SF_PARTNER_ID"),
    ],
)
def test_each_simulator_says_which_credential_is_missing(
    module: str, args: list[str], first: str
) -> None:
    done = subprocess.run(  # noqa: S603 - this interpreter, our own module
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2 and first in done.stderr


def test_the_alipay_simulator_names_a_key_file_that_is_not_a_key(tmp_path: Path) -> None:
    (tmp_path / "not-a-key.pem").write_text("hello", encoding="ascii")
    env = _clean_env(
        BUCHUMEN_ALIPAY_APP_ID="2021000000000001",
        BUCHUMEN_ALIPAY_SELLER_ID="2088000000000001",
        BUCHUMEN_ALIPAY_APP_PUBLIC_KEY_FILE=str(tmp_path / "not-a-key.pem"),
        BUCHUMEN_ALIPAY_SIMULATOR_PRIVATE_KEY_FILE=str(tmp_path / "missing.pem"),
    )
    done = subprocess.run(
        [sys.executable, "-m", "payments.simulator"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2 and "BUCHUMEN_ALIPAY_APP_PUBLIC_KEY_FILE" in done.stderr
