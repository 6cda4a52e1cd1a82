"""A loopback fake WinRM host for contract tests. It never runs PowerShell.

The fake speaks just enough WS-Management (the WinRS shell operations Create, Command,
Send, Receive, Signal and Delete) for ansible-core's ``winrm`` connection plugin and
pywinrm to drive it as they would drive a Windows host. It records what arrives (the
command line, the stdin stream carrying Ansible's exec wrapper payload) and answers with
whatever the test's responder returns, usually a fixture's JSON as the module's stdout.

So a test through this fake proves what the controller does: the connection settings,
the module bundling (module source, C# and PowerShell module_utils, arguments) and how
the answer is parsed. It proves nothing about what av_scan.ps1 does on Windows: nothing
received here is executed.

Authentication: HTTP basic, or NTLM with WinRM message encryption (pyspnego acts as
the NTLM acceptor with a credential file named by NTLM_USER_FILE). Transport: HTTP, or
HTTPS with a certificate made by ``make_self_signed_cert``.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import functools
import http.server
import importlib.util
import json
import re
import ssl
import struct
import threading
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
    "x": "http://schemas.xmlsoap.org/ws/2004/09/transfer",
    "f": "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault",
}
_TRANSFER = "http://schemas.xmlsoap.org/ws/2004/09/transfer/"
_SHELL = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/"
_CMD_RESOURCE = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd"
_STATE_DONE = _SHELL + "CommandState/Done"
_STATE_RUNNING = _SHELL + "CommandState/Running"

# Ansible's bootstrap input: JSON for exec_wrapper, this separator, the exec manifest.
_PAYLOAD_SEPARATOR = b"\n\0\0\0\0\n"
# Before the PowerShell execution rewrite (ansible-core 2.16, the oldest supported):
# the exec_wrapper script, this separator, and a JSON manifest carrying the module.
_LEGACY_SEPARATOR = b"\0\0\0\0"
_LEGACY_MODULE_WRAPPERS = ("module_powershell_wrapper", "module_csharp_wrapper")
_ENCRYPTED_BOUNDARY = b"--Encrypted Boundary"
_SPNEGO_ENCRYPTED = b"application/HTTP-SPNEGO-session-encrypted"


@dataclass(frozen=True)
class Reply:
    """What the fake answers for one command: the process's stdout, stderr and rc."""

    stdout: bytes = b""
    stderr: bytes = b""
    rc: int = 0


def module_reply(result: Mapping[str, Any]) -> Reply:
    """The reply of a PowerShell module that wrote ``result`` with ExitJson/FailJson.

    Ansible.Basic writes the result as one JSON line and exits 1 after FailJson.
    """
    stdout = json.dumps(result, ensure_ascii=False).encode("utf-8") + b"\r\n"
    return Reply(stdout=stdout, rc=1 if result.get("failed") else 0)


@dataclass(frozen=True)
class ExecPayload:
    """Ansible's exec wrapper input, decoded: what a Windows host would run. Read the
    same way whichever ansible-core sent it: ``legacy`` for the manifest before the
    PowerShell execution rewrite (2.16's), which carries the module's source but not
    its name, nor the utils' file names."""

    bootstrap: dict[str, Any]
    manifest: dict[str, Any]
    legacy: bool = False

    @property
    def action_names(self) -> list[str]:
        if self.legacy:
            return list(self.manifest["actions"])
        return [action["name"] for action in self.manifest["actions"]]

    @property
    def script_names(self) -> list[str]:
        if self.legacy:
            return self.csharp_utils + self.powershell_utils
        return list(self.manifest["scripts"])

    def script(self, name: str) -> bytes:
        """The content of a bundled script or module_util, as bytes."""
        if self.legacy:
            stem, _, extension = name.rpartition(".")
            table = "csharp_utils" if extension == "cs" else "powershell_modules"
            return base64.b64decode(self.manifest[table][stem])
        return base64.b64decode(self.manifest["scripts"][name]["script"])

    def action(self, name: str) -> dict[str, Any]:
        for action in self.manifest["actions"]:
            if action["name"] == name:
                return action
        raise KeyError(f"no action {name!r} in {self.action_names}")

    @property
    def runs_module(self) -> bool:
        if self.legacy:
            return any(name in _LEGACY_MODULE_WRAPPERS for name in self.manifest["actions"])
        return "module_wrapper.ps1" in self.action_names and bool(
            self.action("module_wrapper.ps1")["params"].get("ForModule")
        )

    @property
    def module_script_name(self) -> str:
        """The name the module travels under, e.g. ``ansible_collections.ns.coll...ps1``;
        for a legacy payload, the installed module whose source it carries."""
        if self.legacy:
            return _installed_module_names().get(self.module_source, "<unknown module>")
        return self.action("module_wrapper.ps1")["params"]["Script"]

    @property
    def module_source(self) -> bytes:
        if self.legacy:
            return base64.b64decode(self.manifest["module_entry"])
        return self.script(self.module_script_name)

    @property
    def module_args(self) -> dict[str, Any]:
        if self.legacy:
            return self.manifest["module_args"]
        for variable in self.action("module_wrapper.ps1")["params"]["Variables"]:
            if variable["Name"] == "complex_args":
                return variable["Value"]
        raise KeyError("module_wrapper.ps1 carries no complex_args")

    @property
    def csharp_utils(self) -> list[str]:
        if self.legacy:
            return [f"{name}.cs" for name in self.manifest["csharp_utils_module"]]
        return list(self.action("module_wrapper.ps1")["params"]["CSharpModules"])

    @property
    def powershell_utils(self) -> list[str]:
        if self.legacy:
            return [f"{name}.psm1" for name in self.manifest["powershell_modules"]]
        return list(self.action("module_wrapper.ps1")["params"]["PowerShellModules"])


@functools.cache
def _installed_module_names() -> dict[bytes, str]:
    """Every PowerShell module of the installed collections, by its source: the name the
    rewritten payload gives it (``ansible_collections.<ns>.<coll>.plugins.modules.<m>.ps1``)."""
    names = {}
    for root in importlib.util.find_spec("ansible_collections").submodule_search_locations:
        for module in Path(root).glob("*/*/plugins/modules/*.ps1"):
            namespace, collection = module.parts[-5:-3]
            names[module.read_bytes()] = (
                f"ansible_collections.{namespace}.{collection}.plugins.modules.{module.name}"
            )
    return names


def decode_exec_payload(stdin: bytes) -> ExecPayload | None:
    """Decode the bootstrap input Ansible streams over stdin; None if it is not one."""
    head, separator, rest = stdin.partition(_PAYLOAD_SEPARATOR)
    if not separator:
        return _decode_legacy_payload(stdin)
    try:
        bootstrap = json.loads(head)
        # Scripts that take input (put_file) append another separator and raw data.
        manifest, _ = json.JSONDecoder().raw_decode(rest.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(manifest, dict) or "scripts" not in manifest:
        return None
    return ExecPayload(bootstrap=bootstrap, manifest=manifest)


def _decode_legacy_payload(stdin: bytes) -> ExecPayload | None:
    wrapper, separator, rest = stdin.partition(_LEGACY_SEPARATOR)
    if not separator:
        return None
    try:
        manifest = json.loads(rest)
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(manifest, dict) or "module_entry" not in manifest:
        return None
    return ExecPayload(
        bootstrap={"exec_wrapper": wrapper.decode("utf-8", "replace")},
        manifest=manifest,
        legacy=True,
    )


@dataclass
class ReceivedCommand:
    """One WinRS command as the fake received it."""

    shell_id: str
    command_id: str
    command: str
    arguments: str
    stdin: bytearray = field(default_factory=bytearray)
    stdin_closed: bool = False
    signalled: bool = False
    _reply: Reply | None = None
    _stdout_sent: int = 0

    @property
    def encoded_script(self) -> str | None:
        """The script given as ``-EncodedCommand`` (UTF-16LE base64), decoded."""
        match = re.search(r"-EncodedCommand\s+(\S+)", f"{self.command} {self.arguments}")
        if not match:
            return None
        try:
            return base64.b64decode(match.group(1)).decode("utf-16-le")
        except (binascii.Error, UnicodeDecodeError):
            return None

    @property
    def payload(self) -> ExecPayload | None:
        return decode_exec_payload(bytes(self.stdin))


Responder = Callable[[ReceivedCommand], Reply]


def unexpected_command(command: ReceivedCommand) -> Reply:
    """Default responder: fail loudly, so a test never passes on an unplanned exchange."""
    return Reply(stderr=b"fake_winrm: no reply planned for this command", rc=1)


class FakeWinRMHost:
    """The fake host. Use it as a context manager: the server stops on exit.

    ``responder`` decides each command's reply; ``commands`` and ``operations`` record
    what arrived. ``auth`` is "basic" or "ntlm" (NTLM needs NTLM_USER_FILE set to a
    file holding ``:user:password``). ``tls`` is a (certfile, keyfile) pair for HTTPS.
    """

    def __init__(
        self,
        responder: Responder = unexpected_command,
        *,
        username: str = "avshift",
        password: str = "fake-winrm-password",
        auth: str = "basic",
        tls: tuple[Path, Path] | None = None,
        chunk_size: int = 16384,
    ) -> None:
        if auth not in ("basic", "ntlm"):
            raise ValueError(f"unsupported auth {auth!r}")
        self.responder = responder
        self.username = username
        self.password = password
        self.auth = auth
        self.tls = tls
        self.chunk_size = chunk_size
        self.commands: list[ReceivedCommand] = []
        self.operations: list[str] = []
        self.rejected_auth = 0
        self.open_shells: set[str] = set()
        self.encrypted_messages = 0
        self._lock = threading.Lock()
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def port(self) -> int:
        assert self._server is not None, "the fake host is not running"
        return self._server.server_address[1]

    def start(self) -> FakeWinRMHost:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        server.daemon_threads = True
        if self.tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(self.tls[0]), str(self.tls[1]))
            server.socket = context.wrap_socket(server.socket, server_side=True)
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="fake-winrm")
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        assert self._thread is not None
        self._thread.join()
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeWinRMHost:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- what tests read -------------------------------------------------------------

    def module_runs(self) -> list[ExecPayload]:
        """The exec wrapper payloads that asked to run a module, in order."""
        runs = []
        for command in self.commands:
            payload = command.payload
            if payload is not None and payload.runs_module:
                runs.append(payload)
        return runs

    # -- the WS-Management shell operations ------------------------------------------

    def _dispatch(self, body: bytes) -> tuple[int, bytes]:
        try:
            root = ET.fromstring(body)
        except ET.ParseError:
            return 400, _fault("", "the request is not XML")
        action = root.findtext("s:Header/a:Action", default="", namespaces=NS).strip()
        message_id = root.findtext("s:Header/a:MessageID", default="", namespaces=NS).strip()
        resource = root.findtext("s:Header/w:ResourceURI", default="", namespaces=NS).strip()
        shell_id = ""
        for selector in root.iterfind("s:Header/w:SelectorSet/w:Selector", NS):
            if selector.get("Name") == "ShellId":
                shell_id = (selector.text or "").strip()
        operation = action.rsplit("/", 1)[-1]
        with self._lock:
            self.operations.append(operation)
        if resource != _CMD_RESOURCE:
            return 500, _fault(message_id, f"unsupported resource {resource}")
        if operation != "Create" and shell_id not in self.open_shells:
            return 500, _fault(message_id, f"unknown shell {shell_id!r}")
        handler = {
            _TRANSFER + "Create": self._create,
            _TRANSFER + "Delete": self._delete,
            _SHELL + "Command": self._command,
            _SHELL + "Send": self._send,
            _SHELL + "Receive": self._receive,
            _SHELL + "Signal": self._signal,
        }.get(action)
        if handler is None:
            return 500, _fault(message_id, f"unsupported action {action}")
        return handler(root, message_id, shell_id)

    def _create(self, root: ET.Element, message_id: str, _shell_id: str) -> tuple[int, bytes]:
        shell_id = str(uuid.uuid4()).upper()
        with self._lock:
            self.open_shells.add(shell_id)
        body = (
            "<x:ResourceCreated><a:Address>http://127.0.0.1/wsman</a:Address>"
            f"<a:ReferenceParameters><w:ResourceURI>{_CMD_RESOURCE}</w:ResourceURI>"
            f'<w:SelectorSet><w:Selector Name="ShellId">{shell_id}</w:Selector>'
            "</w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>"
            f"<rsp:Shell><rsp:ShellId>{shell_id}</rsp:ShellId>"
            "<rsp:InputStreams>stdin</rsp:InputStreams>"
            "<rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>"
        )
        return 200, _envelope(_TRANSFER + "CreateResponse", message_id, body)

    def _delete(self, _root: ET.Element, message_id: str, shell_id: str) -> tuple[int, bytes]:
        with self._lock:
            self.open_shells.discard(shell_id)
        return 200, _envelope(_TRANSFER + "DeleteResponse", message_id, "")

    def _command(self, root: ET.Element, message_id: str, shell_id: str) -> tuple[int, bytes]:
        line = root.find("s:Body/rsp:CommandLine", NS)
        if line is None:
            return 500, _fault(message_id, "Command without CommandLine")
        command = ReceivedCommand(
            shell_id=shell_id,
            command_id=str(uuid.uuid4()).upper(),
            command=(line.findtext("rsp:Command", default="", namespaces=NS) or "").strip(),
            arguments=(line.findtext("rsp:Arguments", default="", namespaces=NS) or "").strip(),
        )
        with self._lock:
            self.commands.append(command)
        body = (
            f"<rsp:CommandResponse><rsp:CommandId>{command.command_id}</rsp:CommandId>"
            "</rsp:CommandResponse>"
        )
        return 200, _envelope(_SHELL + "CommandResponse", message_id, body)

    def _find_command(self, command_id: str) -> ReceivedCommand | None:
        with self._lock:
            for command in self.commands:
                if command.command_id == command_id:
                    return command
        return None

    def _send(self, root: ET.Element, message_id: str, _shell_id: str) -> tuple[int, bytes]:
        stream = root.find("s:Body/rsp:Send/rsp:Stream", NS)
        if stream is None or stream.get("Name") != "stdin":
            return 500, _fault(message_id, "Send without a stdin stream")
        command = self._find_command(stream.get("CommandId", ""))
        if command is None:
            return 500, _fault(message_id, "Send for an unknown command")
        if command.stdin_closed:
            return 500, _fault(message_id, "Send after the end of stdin")
        command.stdin += base64.b64decode(stream.text or "")
        command.stdin_closed = stream.get("End", "false").lower() == "true"
        return 200, _envelope(_SHELL + "SendResponse", message_id, "<rsp:SendResponse/>")

    def _receive(self, root: ET.Element, message_id: str, _shell_id: str) -> tuple[int, bytes]:
        desired = root.find("s:Body/rsp:Receive/rsp:DesiredStream", NS)
        command = self._find_command("" if desired is None else desired.get("CommandId", ""))
        if command is None:
            return 500, _fault(message_id, "Receive for an unknown command")
        if command._reply is None:
            command._reply = self.responder(command)
        reply = command._reply
        # Hand stdout out in chunks over several Receives, as Windows does for long
        # output, so the client's reassembly is exercised too.
        start = command._stdout_sent
        chunk = reply.stdout[start : start + self.chunk_size]
        command._stdout_sent = start + len(chunk)
        done = command._stdout_sent >= len(reply.stdout)
        cid = command.command_id
        parts = [f'<rsp:Stream Name="stdout" CommandId="{cid}">{_b64(chunk)}</rsp:Stream>']
        if done:
            parts.append(f'<rsp:Stream Name="stdout" CommandId="{cid}" End="true"></rsp:Stream>')
            parts.append(
                f'<rsp:Stream Name="stderr" CommandId="{cid}">{_b64(reply.stderr)}</rsp:Stream>'
            )
            parts.append(f'<rsp:Stream Name="stderr" CommandId="{cid}" End="true"></rsp:Stream>')
            parts.append(
                f'<rsp:CommandState CommandId="{cid}" State="{_STATE_DONE}">'
                f"<rsp:ExitCode>{reply.rc}</rsp:ExitCode></rsp:CommandState>"
            )
        else:
            parts.append(f'<rsp:CommandState CommandId="{cid}" State="{_STATE_RUNNING}"/>')
        body = "<rsp:ReceiveResponse>" + "".join(parts) + "</rsp:ReceiveResponse>"
        return 200, _envelope(_SHELL + "ReceiveResponse", message_id, body)

    def _signal(self, root: ET.Element, message_id: str, _shell_id: str) -> tuple[int, bytes]:
        signal = root.find("s:Body/rsp:Signal", NS)
        command = self._find_command("" if signal is None else signal.get("CommandId", ""))
        if command is None:
            return 500, _fault(message_id, "Signal for an unknown command")
        command.signalled = True
        return 200, _envelope(_SHELL + "SignalResponse", message_id, "<rsp:SignalResponse/>")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _envelope(action: str, relates_to: str, body: str) -> bytes:
    namespaces = " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in NS.items())
    return (
        f"<s:Envelope {namespaces}><s:Header>"
        f"<a:Action>{action}</a:Action>"
        f"<a:MessageID>uuid:{uuid.uuid4()}</a:MessageID>"
        f"<a:RelatesTo>{escape(relates_to)}</a:RelatesTo>"
        f"</s:Header><s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


def _fault(relates_to: str, reason: str) -> bytes:
    body = (
        "<s:Fault><s:Code><s:Value>s:Receiver</s:Value></s:Code>"
        f'<s:Reason><s:Text xml:lang="en-US">{escape(reason)}</s:Text></s:Reason>'
        '<s:Detail><f:WSManFault Code="2150858770" Machine="fake-winrm">'
        f"<f:Message>{escape(reason)}</f:Message></f:WSManFault></s:Detail></s:Fault>"
    )
    return _envelope("http://schemas.dmtf.org/wbem/wsman/1/wsman/fault", relates_to, body)


# -- HTTP: authentication and NTLM message encryption ---------------------------------


def _unwrap_encrypted(context: Any, body: bytes) -> bytes:
    """Decrypt an MS-WSMV multipart/encrypted body sealed with the NTLM session."""
    parts = [part for part in body.split(_ENCRYPTED_BOUNDARY + b"\r\n") if part]
    message = b""
    for header, payload in zip(parts[0::2], parts[1::2], strict=True):
        expected = int(header.split(b"Length=")[1].split(b"\r\n")[0])
        payload = payload.removesuffix(_ENCRYPTED_BOUNDARY + b"--\r\n")
        payload = payload.replace(b"\tContent-Type: application/octet-stream\r\n", b"", 1)
        signature_length = struct.unpack("<i", payload[:4])[0]
        signature = payload[4 : 4 + signature_length]
        sealed = payload[4 + signature_length :]
        clear = context.unwrap(signature + sealed).data
        if len(clear) != expected:
            raise ValueError("decrypted length does not match the declared length")
        message += clear
    return message


def _wrap_encrypted(context: Any, message: bytes) -> bytes:
    sealed = context.wrap(message, encrypt=True).data
    signature, data = sealed[:16], sealed[16:]
    return (
        _ENCRYPTED_BOUNDARY + b"\r\n"
        b"\tContent-Type: " + _SPNEGO_ENCRYPTED + b"\r\n"
        b"\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length="
        + str(len(message)).encode()
        + b"\r\n"
        + _ENCRYPTED_BOUNDARY
        + b"\r\n\tContent-Type: application/octet-stream\r\n"
        + struct.pack("<i", len(signature))
        + signature
        + data
        + _ENCRYPTED_BOUNDARY
        + b"--\r\n"
    )


def _make_handler(host: FakeWinRMHost) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        # HTTP/1.1 keeps the connection open: NTLM authenticates a connection.
        protocol_version = "HTTP/1.1"
        server_version = "Microsoft-HTTPAPI/2.0"

        ntlm_context: Any = None
        ntlm_done = False

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length) if length else b""
            if self.path != "/wsman":
                self._respond(404, b"", "text/plain")
                return
            if host.auth == "basic":
                if not self._basic_ok():
                    self._reject('Basic realm="WSMAN"')
                    return
                status, reply = host._dispatch(body)
                self._respond(status, reply)
                return
            self._ntlm(body)

        def _basic_ok(self) -> bool:
            header = self.headers.get("Authorization", "")
            scheme, _, value = header.partition(" ")
            if scheme.lower() != "basic":
                return False
            try:
                user, _, password = base64.b64decode(value).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return False
            return user == host.username and password == host.password

        def _ntlm(self, body: bytes) -> None:
            import spnego  # installed with pywinrm; only the NTLM tests need it

            header = self.headers.get("Authorization", "")
            scheme, _, token = header.partition(" ")
            if scheme.lower() in ("negotiate", "ntlm") and token:
                if self.ntlm_context is None or self.ntlm_done:
                    self.ntlm_context = spnego.server(protocol="ntlm")
                    self.ntlm_done = False
                try:
                    out = self.ntlm_context.step(base64.b64decode(token))
                except spnego.exceptions.SpnegoError:
                    self.ntlm_context = None
                    self._reject("Negotiate")
                    return
                if not self.ntlm_context.complete:
                    challenge = f"{scheme} {base64.b64encode(out or b'').decode()}"
                    self._respond(401, b"", "text/plain", {"WWW-Authenticate": challenge})
                    return
                self.ntlm_done = True
            elif not self.ntlm_done:
                self._reject("Negotiate")
                return
            if not body:
                # pywinrm's empty request that sets up the encryption context
                self._respond(200, b"", "text/plain")
                return
            content_type = self.headers.get("Content-Type", "")
            if "multipart/encrypted" not in content_type:
                # A real host refuses unencrypted messages over HTTP by default.
                self._respond(400, b"", "text/plain")
                return
            with host._lock:
                host.encrypted_messages += 1
            status, reply = host._dispatch(_unwrap_encrypted(self.ntlm_context, body))
            encrypted = _wrap_encrypted(self.ntlm_context, reply)
            self._respond(
                status,
                encrypted,
                'multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted";'
                'boundary="Encrypted Boundary"',
            )

        def _reject(self, challenge: str) -> None:
            with host._lock:
                host.rejected_auth += 1
            self._respond(401, b"", "text/plain", {"WWW-Authenticate": challenge})

        def _respond(
            self,
            status: int,
            body: bytes,
            content_type: str = "application/soap+xml;charset=UTF-8",
            headers: Mapping[str, str] | None = None,
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

    return Handler


def make_self_signed_cert(directory: Path, hostname: str = "127.0.0.1") -> tuple[Path, Path]:
    """Write a throwaway self-signed certificate and key for the HTTPS listener."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-winrm")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(hostname))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path = directory / "fake-winrm.crt"
    key_path = directory / "fake-winrm.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path
