"""Signed sign-off on real files: good signatures pass; a changed artifact byte, a changed verdict, a
wrong key, an edited or unsigned record are caught and named."""

from __future__ import annotations

import json
import os

import pytest
from checklist_helpers import NOW, RUN_ID, put, start
from signing_keys import age_identity, hmac_secret, ssh_ed25519, ssh_rsa_text

from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.evaluate import evaluate
from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.items import ChecklistError, build_items
from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.module_support import run_report, run_signoff
from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.signature import (
    _bech32_decode, age_identity_secret, load_signer, load_verifiers,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import artifact, measurement


def params(run_dir, **kw):
    base = dict(run_dir=str(run_dir), mode="record", decision="approve", by="alice", comment="", change_ticket="CHG-9",
                override_reason="", context={}, items=[], critical={}, max_age="", signing_key="", signing_key_file="",
                signing_key_passphrase="", hmac_secret="", public_keys=[])
    base.update(kw)
    return base


@pytest.fixture
def backup(all_pass, tmp_path, monkeypatch):
    """pg_backup's verdict names a real backup file (outside the run dir) and a relative manifest."""
    dump = tmp_path / "backups" / "db.dump.zst"
    dump.parent.mkdir()
    dump.write_bytes(os.urandom(4096))
    (all_pass / "db.manifest").write_text('{"tables": 3}\n')
    monkeypatch.chdir(all_pass)  # artifact() hashes the relative path from here; the seal resolves it from the run dir
    put(all_pass, "pg_backup", artifacts=[artifact(str(dump), kind="backup"), artifact("db.manifest", kind="manifest")],
        measurements=[measurement("tables", 3, "tables", 1, ">=")])
    return dump


def sign(run_dir, **kw):
    result, error = run_signoff(params(run_dir, **kw), check_mode=False, now=NOW)
    assert error is None, error
    return result


def signoff_of(run_dir, public_keys=(), secret=""):
    model = evaluate(str(run_dir), build_items(), now=NOW + 5, verifiers=load_verifiers(list(public_keys), secret))
    return model, model["signoff"]


def flip_byte(path, offset=100):
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def test_ssh_signature_verifies_and_the_run_is_go(backup, all_pass, tmp_path):
    key_file, public = ssh_ed25519(tmp_path)
    result = sign(all_pass, signing_key_file=str(key_file))
    assert result["signed"] and result["key_id"].startswith("SHA256:")
    details = json.loads((all_pass / "signoff.json").read_text())["details"]
    assert details["signature"]["alg"] == "ssh-ed25519" and details["evidence"]["files"]["pg_backup.json"]
    assert {a["path"] for a in details["evidence"]["artifacts"]} == {str(backup), "db.manifest"}
    assert all(a["rehashed"] for a in details["evidence"]["artifacts"])
    model, info = signoff_of(all_pass, [public])
    assert model["decision"] == "go", model["decision_reason"]
    assert info["signature"] == "verified" and info["sealed_files"] == 13 and info["sealed_artifacts"] == 2


def test_one_changed_byte_of_a_backup_artifact_is_caught(backup, all_pass, tmp_path):
    key_file, public = ssh_ed25519(tmp_path)
    sign(all_pass, signing_key_file=str(key_file))
    flip_byte(backup)
    model, info = signoff_of(all_pass, [public])
    assert model["decision"] == "pending" and info["status"] == "pending"
    assert info["signature"] == "verified"  # the record is authentic; the evidence is not what was approved
    assert info["problems"] == [f"artifact {backup} (named by pg_backup.json) changed after the sign-off: "
                                f"sha256 now {info['problems'][0].split('now ')[1][:12]}..., "
                                f"signed {details_sha(all_pass, str(backup))[:12]}..."]
    assert str(backup) in model["decision_reason"]


def details_sha(run_dir, path):
    arts = json.loads((run_dir / "signoff.json").read_text())["details"]["evidence"]["artifacts"]
    return next(a["sha256"] for a in arts if a["path"] == path)


def test_a_changed_verdict_file_and_a_removed_artifact_are_caught(backup, all_pass):
    secret = hmac_secret()
    sign(all_pass, hmac_secret=secret)
    path = all_pass / "load_test.json"
    path.write_text(path.read_text().replace("load_test pass", "load_test PASS"))  # still valid JSON, same status
    (all_pass / "db.manifest").unlink()
    model, info = signoff_of(all_pass, secret=secret)
    assert model["decision"] == "pending" and info["signature"] == "verified"
    assert "load_test.json changed after the sign-off" in info["problems"]
    assert "artifact db.manifest (named by pg_backup.json) was removed after the sign-off" in info["problems"]


def test_a_verdict_added_after_the_signoff_is_caught(all_pass):
    sign(all_pass)
    put(all_pass, "load_test@app2", "fail")
    _, info = signoff_of(all_pass)
    assert info["problems"] == ["load_test@app2.json was added after the sign-off"]


def test_wrong_key_is_caught_for_each_kind(all_pass, tmp_path):
    key_file, _ = ssh_ed25519(tmp_path, "alice")
    _, other_public = ssh_ed25519(tmp_path, "mallory")
    sign(all_pass, signing_key_file=str(key_file))
    model, info = signoff_of(all_pass, [other_public])
    assert model["decision"] == "pending" and info["signature"] == "invalid"
    assert "which is not a configured verification key" in info["reason"]

    sign(all_pass, hmac_secret=hmac_secret())
    _, info = signoff_of(all_pass, secret=hmac_secret())
    assert info["status"] == "pending" and "hmac-sha256 key hmac:" in info["reason"]


def test_record_edited_after_signing_does_not_verify(all_pass, tmp_path):
    key_file, public = ssh_ed25519(tmp_path)
    sign(all_pass, signing_key_file=str(key_file))
    record = json.loads((all_pass / "signoff.json").read_text())
    record["details"]["by"] = "mallory"
    (all_pass / "signoff.json").write_text(json.dumps(record))
    _, info = signoff_of(all_pass, [public])
    assert info["status"] == "pending" and "does not verify" in info["reason"] and "changed after it was signed" in info["reason"]


def test_unsigned_signoff_is_not_valid_once_a_key_is_configured(all_pass, tmp_path):
    _, public = ssh_ed25519(tmp_path)
    sign(all_pass)
    model, info = signoff_of(all_pass)
    assert model["decision"] == "go" and info["signature"] == "unsigned"  # no key configured: evidence hashes only
    model, info = signoff_of(all_pass, [public])
    assert model["decision"] == "pending" and "not signed, but a verification key is configured" in info["reason"]


def test_forger_who_rehashes_tampered_evidence_still_needs_the_key(backup, all_pass, tmp_path):
    key_file, public = ssh_ed25519(tmp_path)
    sign(all_pass, signing_key_file=str(key_file))
    flip_byte(backup)
    put(all_pass, "pg_backup", artifacts=[artifact(str(backup))], measurements=[measurement("tables", 3, "tables")])
    sign(all_pass)  # a new, consistent record, but without the approver's key
    _, info = signoff_of(all_pass, [public])
    assert info["status"] == "pending" and info["signature"] == "unsigned"


def test_age_identity_signs_and_its_derived_public_key_verifies(all_pass, tmp_path):
    identity_file, identity, recipient = age_identity(tmp_path)
    result = sign(all_pass, signing_key_file=str(identity_file))
    assert result["public_key"].startswith("ssh-ed25519 ") and identity not in json.dumps(result)
    model, info = signoff_of(all_pass, [result["public_key"]])
    assert model["decision"] == "go" and info["signature"] == "verified"
    # the same identity always derives the same key; given inline it signs identically
    again = load_signer(key=identity)
    assert again.public_key == result["public_key"] and again.key_id == result["key_id"]
    # the bech32 decoding is right: the X25519 public key of the decoded secret is the age recipient
    from cryptography.hazmat.primitives.asymmetric import x25519
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    secret = age_identity_secret(identity)
    public = x25519.X25519PrivateKey.from_private_bytes(secret).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert public == _bech32_decode(recipient, "age")


def test_run_id_is_signed_and_another_run_is_caught(all_pass, tmp_path):
    key_file, public = ssh_ed25519(tmp_path)
    result = sign(all_pass, signing_key_file=str(key_file))
    assert result["record"]["run_id"] == RUN_ID
    start(all_pass, "20270116T080000Z-000000000002")
    _, info = signoff_of(all_pass, [public])
    assert info["status"] == "pending" and f"recorded by another run ({RUN_ID})" in info["reason"]


def test_evidence_already_changed_before_signing_is_refused(backup, all_pass):
    flip_byte(backup)
    _, error = run_signoff(params(all_pass), check_mode=False, now=NOW)
    assert error.startswith("sign-off refused: the evidence in") and str(backup) in error and "does not match its verdict" in error
    assert not (all_pass / "signoff.json").exists()


def test_remote_and_absent_artifacts_are_sealed_as_claimed_and_listed(all_pass, tmp_path):
    url = "s3://bucket/backup.tar.zst"
    put(all_pass, "s3_backup", artifacts=[{"path": url, "sha256": "ab" * 32, "size_bytes": 1}])
    sign(all_pass)
    _, info = signoff_of(all_pass)
    assert info["status"] == "pass" and info["artifacts_not_rehashed"] == [url]


def test_idempotent_per_key_and_resigned_when_the_key_changes(all_pass, tmp_path):
    key_file, _ = ssh_ed25519(tmp_path, "a")
    other, _ = ssh_ed25519(tmp_path, "b")
    assert sign(all_pass, signing_key_file=str(key_file))["changed"]
    assert not run_signoff(params(all_pass, signing_key_file=str(key_file)), False, now=NOW + 60)[0]["changed"]
    assert run_signoff(params(all_pass, signing_key_file=str(other)), False, now=NOW + 60)[0]["changed"]
    assert run_signoff(params(all_pass), False, now=NOW + 60)[0]["changed"]  # unsigned replaces signed


def test_verify_mode_reports_valid_and_tampered(backup, all_pass, tmp_path):
    key_file, public = ssh_ed25519(tmp_path)
    sign(all_pass, signing_key_file=str(key_file))
    result, error = run_signoff(params(all_pass, mode="verify", public_keys=[public]), False, now=NOW + 5)
    assert error is None and result["valid"] and result["verdict"]["status"] == "pass" and not result["changed"]
    flip_byte(backup)
    result, _ = run_signoff(params(all_pass, mode="verify", public_keys=[public]), False, now=NOW + 5)
    assert not result["valid"] and result["verdict"]["status"] == "pending"
    assert "db.dump.zst (named by pg_backup.json) changed after the sign-off" in result["verdict"]["summary"]


def test_report_module_takes_the_keys_and_never_shows_the_secret(all_pass):
    secret = hmac_secret()
    sign(all_pass, hmac_secret=secret)
    report = dict(run_dir=str(all_pass), items=[], critical={}, max_age="", report_dir=None, formats=["json", "html"],
                  title="t", signoff_public_keys=[], signoff_hmac_secret=secret)
    result, error = run_report(report, check_mode=False, now=NOW + 5)
    assert error is None and result["decision"] == "go" and result["signoff"]["signature"] == "verified"
    written = "".join(p.read_text() for p in (all_pass / "report").iterdir()) + json.dumps(result)
    written += (all_pass / "signoff.json").read_text()
    assert secret not in written


@pytest.mark.parametrize("kw, message", [
    (dict(key=ssh_rsa_text()), "not ed25519"),
    (dict(key="AGE-SECRET-KEY-1QQQQ"), "age identity is malformed"),
    (dict(key="hello"), "neither an SSH ed25519 private key"),
    (dict(hmac_secret="short"), "shorter than 16 bytes"),  # pragma: allowlist secret
    (dict(key="x", hmac_secret="y" * 20), "give one signing key, not signing_key and hmac_secret"),
    (dict(key_file="/nonexistent/key"), "cannot read the signing key file /nonexistent/key"),
])
def test_bad_signing_keys_are_clear_errors(kw, message):
    with pytest.raises(ChecklistError, match=message):
        load_signer(**kw)


def test_bad_public_keys_are_clear_errors():
    with pytest.raises(ChecklistError, match="must be an OpenSSH line 'ssh-ed25519 AAAA"):
        load_verifiers(["age1abc"])
    with pytest.raises(ChecklistError, match="is malformed"):
        load_verifiers(["ssh-ed25519 AAAAnotbase64"])
