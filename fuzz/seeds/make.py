#!/usr/bin/env python3
"""Writes the seed corpora in fuzz/seeds/<target>/ (small, valid inputs the fuzzer
starts from). Re-run after a schema or input format change; the output is
deterministic, so an unchanged run leaves git clean."""

import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ID1 = "Zq3vXw9LkT2mNb7RcY5pHs1dFg8jKa4e"
ID2 = "prev:ious/Id=1,2@example.com+x_y-z"


def mp(v):
    """A minimal msgpack encoder; an `Unknown` is extension 0, as Terraform sends it."""
    if v is None:
        return b"\xc0"
    if v is True:
        return b"\xc3"
    if v is False:
        return b"\xc2"
    if v is Unknown:
        return b"\xd4\x00\x00"
    if isinstance(v, int):
        if 0 <= v < 128:
            return bytes([v])
        return b"\xd3" + struct.pack(">q", v)
    if isinstance(v, float):
        return b"\xcb" + struct.pack(">d", v)
    if isinstance(v, str):
        b = v.encode()
        if len(b) < 32:
            return bytes([0xA0 | len(b)]) + b
        if len(b) < 256:
            return b"\xd9" + bytes([len(b)]) + b
        return b"\xda" + struct.pack(">H", len(b)) + b
    if isinstance(v, list):
        return bytes([0x90 | len(v)]) + b"".join(mp(x) for x in v)
    if isinstance(v, dict):
        return bytes([0x80 | len(v)]) + b"".join(mp(k) + mp(x) for k, x in v.items())
    raise TypeError(v)


Unknown = object()


def write(target, name, data):
    d = os.path.join(HERE, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# Codec order: provider, the data sources, the resources (provider/src/lib.rs registry).
TEMPLATE = {
    "aws_account_id": "123456789012",
    "sso_instance_arn": "arn:aws:sso:::instance/ssoins-1234567890abcdef",
    "region": "eu-west-1",
    "external_ids": [ID1, ID2],
    "trusted_principal_arn": "arn:aws:iam::210987654321:role/vendor",
    "tags": {"env": "prod", "team": "platform"},
    "max_session_duration": 7200,
    "role_path": "/a/${x}/",
}
PROVIDER = {"region": "us-east-1", "propagation_timeout": "2m", "tags": {"a": "b"}, "max_session_duration": 3600}
CONNECTIVITY = {
    "aws_account_id": "123456789012",
    "sso_instance_arn": "arn:aws:sso:::instance/ssoins-1234567890abcdef",
    "role_arn": "arn:aws:iam::123456789012:role/IdcBootstrapTrustRole",
    "external_ids": [ID1],
    "steps": [{"code": "ok", "duration_ms": 12, "message": "m", "ok": True, "step": "assume_role"}],
    "success": Unknown,
}
EXTERNAL_ID = {
    "id": "eid-0123456789abcdef",
    "current": ID1,
    "previous": ID2,
    "all": [ID1, ID2],
    "rotation": "2",
    "retire_previous": False,
    "rotation_state": "rotating",
}
CHECK = dict(CONNECTIVITY, triggers={"k": "v"}, steps=Unknown)
VALUES = [PROVIDER, TEMPLATE, CONNECTIVITY, EXTERNAL_ID, CHECK]

for i, v in enumerate(VALUES):
    write("value_msgpack", f"schema{i}", bytes([i]) + mp(v))
    plain = {k: x for k, x in v.items() if x is not Unknown}
    write("value_json", f"schema{i}", bytes([i * 2]) + json.dumps(plain).encode())
    write("value_json", f"schema{i}-lenient", bytes([i * 2 + 1]) + json.dumps(dict(plain, gone=1)).encode())
write("value_msgpack", "null", b"\x03\xc0")
write("value_msgpack", "unknown", b"\x01\xd4\x00\x00")

# Resource order: idcbootstrap_external_id (0), idcbootstrap_connectivity_check (1).
# Byte 0: low nibble the resource, high nibble the version + 1.
v0 = {"id": "eid-abc", "rotation": "1", "current": ID1, "previous": ID2}
write("upgrade_state", "external-id-v0", bytes([0x10]) + json.dumps(v0).encode())
write("upgrade_state", "external-id-v1", bytes([0x20]) + json.dumps(EXTERNAL_ID).encode())
check = {k: x for k, x in CHECK.items() if x is not Unknown}
write("upgrade_state", "check-v0", bytes([0x11]) + json.dumps(check).encode())

for name, p in [
    ("field", "region"),
    ("index", "external_ids[1]"),
    ("key", 'tags["env"]'),
    ("escaped", 'tags["we\\"ird]\\n\\u0000"].x[0]'),
    ("nested", 'steps[3].ok["k"][12]'),
]:
    write("attr_path", name, p)

for name, s in [
    ("generated", ID1),
    ("alphabet", "ab+=,.@:/-_Z9"),
    ("pair", f"{ID1} {ID2}"),
    ("space", "has space"),
    ("unicode", "ü-secret-value"),
    ("short", "Q"),
]:
    write("external_id_parse", name, s)

REQUEST = [
    "123456789012",
    "arn:aws:sso:::instance/ssoins-abcdef0123456789",
    "us-east-1",
    "arn:aws:iam::111122223333:role/vendor/Integration",
    f"{ID1} {ID2}",
    "Trust+Role=1,2.@-_",
    "/a\"b/${x}/%{if}/$${y}/\\/'#:-/",
    "arn:aws:iam::aws:policy/ReadOnlyAccess",
    "43200",
    "yes|on\tnull|Null\t0123|2024-01-01\t- dash|@at\t=|a: b\tKostenstelle äöü|東京\tx|\u2028\u3000",
    "admin",
    "https://bucket.s3.amazonaws.com/path/t.yaml?versionId=a&b=c%20d#frag",
]
write("render", "tricky", "\n".join(REQUEST))
write("render", "minimal", "\n".join(REQUEST[:4] + [ID1]))
gov = list(REQUEST)
gov[1] = "arn:aws-us-gov:sso:::instance/ssoins-abcdef0123456789"
gov[2] = "us-gov-west-1"
gov[3] = "arn:aws-us-gov:iam::111122223333:role/v"
gov[7] = ""
gov[10] = "read_only"
write("render", "gov", "\n".join(gov))


def event(kind, rtype, props, old=None, physical=None):
    e = {
        "RequestType": kind,
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:idcbootstrap",
        "ResponseURL": "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/arn%3A?X-Amz-Signature=x",
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/s/0a1b2c3d",
        "RequestId": "5d5a6b1e-0000-4000-8000-000000000000",
        "LogicalResourceId": "Trust",
        "ResourceType": rtype,
        "ResourceProperties": dict(props, ServiceToken="arn:aws:lambda:us-east-1:123456789012:function:idcbootstrap"),
    }
    if old is not None:
        e["OldResourceProperties"] = old
    if physical is not None:
        e["PhysicalResourceId"] = physical
    return json.dumps(e, ensure_ascii=False)


TPROPS = {"AwsAccountId": "123456789012", "ExternalIds": [ID1, ID2], "Tags": {"env": "prod"}}
write("cfn_event", "create", event("Create", "Custom::IdcTemplate", TPROPS))
write("cfn_event", "update", event("Update", "Custom::IdcExternalId", {"Rotation": "2"}, {"Rotation": "1"}, "idc-eid-x"))
write("cfn_event", "delete", event("Delete", "Custom::IdcExternalId", {}, physical="idc-eid-x"))
write("cfn_event", "malformed", json.dumps({"RequestType": "Create", "ResponseURL": "https://x", "StackId": "s",
                                            "RequestId": "r", "LogicalResourceId": "l", "ResourceProperties": [ID1]}))

# Echoed fields far over the limit (issue 13, defect 8): still a body of 4096 bytes at most.
long = json.loads(event("Update", "Custom::IdcExternalId", {"Rotation": "2"}, {}, "p" * 1500))
long.update(StackId=long["StackId"] + "a" * 3000, RequestId="r" * 2000, LogicalResourceId="L" * 500)
write("cfn_event", "long-ids", json.dumps(long))
write("cfn_response", "long-ids", "\0".join(["S", "why" * 500, "p" * 1500, "s" * 3000, "r" * 2000, "L" * 500, "K", "v"]))
write("cfn_response", "success", "\0".join(["S", "", "pid", "stack", "req", "Trust", "RoleArn", "arn:aws:iam::1:role/x"]))
write("cfn_response", "long-reason", "\0".join(["F", "invalid_input: " + "é\"\\\n" * 400, "pid", "stack", "req", "Trust"]))
write("cfn_response", "big-data", "\0".join(["S", "", "pid", "stack", "req", "Trust", "A", "x" * 2000, "B", "y" * 2100]))

# Two bytes a step (fuzz/src/sequence.rs): op, then retire_previous.
NULL, UNKNOWN, KNOWN = 0, 1, 2
R_NULL, R_FALSE, R_TRUE = 0, 1, 2


def step(mode=NULL, value=0, retire=R_NULL):
    return bytes([2 | (mode << 3) | (value << 5), retire])


DELETE, RELOAD = bytes([0, 0]), bytes([1, 0])
write("external_id_sequence", "create-rotate-retire",
      step() + step(KNOWN, 1, R_FALSE) + step(KNOWN, 2, R_FALSE) + RELOAD + step(KNOWN, 2, R_TRUE) + RELOAD + DELETE)
write("external_id_sequence", "refusals",
      step(KNOWN, 1) + step(KNOWN, 2) + step(KNOWN, 3) + step(KNOWN, 4, R_TRUE) + step(KNOWN, 5) + step(UNKNOWN, 3, 4 | 0x80)
      + step(KNOWN, 3, R_TRUE) + RELOAD)
