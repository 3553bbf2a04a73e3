#!/usr/bin/env python3
"""Writes the bundled sample (data/sample/) that `stagelog demo` imports.

Deterministic: the same files every run. The sample is shaped like what users hold: AWS CLI v2 and
v1 pages of ListParticipantEvents (newest first, overlapping, one participant per call), a boto3
dump made with `json.dumps(resp, default=str)`, event NDJSON that carries its own context, a JSON
array of events, a page saved with its request parameters, and participant and session records.
It is not clean, on purpose: same-instant ties, duplicates across pages and within a file, a
reconnect at the instant of LEFT, a republish, intervals left open, token chains (an upgrade, a
downgrade, a broken link), replication (closed and open), an unknown error code, an unknown event
name and an unknown field.

Run from the repository root: python3 data/make_sample.py
"""
import json
import os
from datetime import datetime, timezone

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sample")

STAGE_A = "arn:aws:ivs:us-west-2:111122223333:stage/Src0Stage1aB"
STAGE_B = "arn:aws:ivs:us-west-2:111122223333:stage/Dst0Stage9xY"
S1 = "st-4HgT6yU8iO0pL"  # 2025-06-02, ended
S2 = "st-7JkL9zX1cV3bN"  # 2025-06-03, still active (no endTime)
S3 = "st-9KpL2mN4qR7sT"  # stage B: where the host is replicated to

HOST, GUEST, VIEWER, RETRY = "Qw3rTy7uIo9P", "Zx8cVb6nMl4K", "Mn5bV7cX9zL1", "Pp0oIi9uUy8T"
HOST2, NUMERIC, REMOTE_VIEWER = "Ha5tHost0001", "000123", "Rv9Viewer001"


def t(text):
    """'2025-06-02 14:00:01.5' -> aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def cli_v2(dt):
    # botocore's default parser + the CLI v2 printer: isoformat, no fraction when it is zero.
    return dt.isoformat()


def cli_v1(dt):
    # AWS CLI v1 prints the wire text: milliseconds and Z.
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def event(name, when, fmt, participant=None, **fields):
    e = {"name": name}
    if participant is not None:
        e["participantId"] = participant
    e["eventTime"] = fmt(when)
    e.update(fields)
    return e


def token(caps, user, attrs, expires, fmt):
    return {"capabilities": caps, "attributes": attrs, "userId": user, "expirationTime": fmt(expires)}


def write(name, text):
    with open(os.path.join(OUT, name), "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def cli_json(doc):
    # Both CLI versions print JSON with four-space indentation.
    return json.dumps(doc, indent=4) + "\n"


def host_events(fmt):
    """The host of session 1, oldest first."""
    rep = {"destinationStageArn": STAGE_B, "destinationSessionId": S3}
    return [
        event("JOINED", t("2025-06-02 14:00:01"), fmt, HOST),
        event("PUBLISH_STARTED", t("2025-06-02 14:00:01"), fmt, HOST),
        event("SUBSCRIBE_STARTED", t("2025-06-02 14:00:02.417"), fmt, HOST, remoteParticipantId=GUEST),
        event("SUBSCRIBE_ERROR", t("2025-06-02 14:00:05"), fmt, HOST,
              remoteParticipantId="Ab12Cd34Ef56", errorCode="PUBLISHER_NOT_FOUND"),
        event("REPLICATION_STARTED", t("2025-06-02 14:01:00"), fmt, HOST, **rep),
        event("TOKEN_EXCHANGED", t("2025-06-02 14:03:00.120"), fmt, HOST,
              previousToken=token(["PUBLISH", "SUBSCRIBE"], "user-42", {"role": "host"},
                                  t("2025-06-02 20:00:00"), fmt),
              newToken=token(["SUBSCRIBE", "PUBLISH"], "user-42", {"role": "cohost"},
                             t("2025-06-02 20:15:00"), fmt)),
        # `errorDetail` stands for a field a future API version adds: kept and counted.
        event("PUBLISH_ERROR", t("2025-06-02 14:05:03.004"), fmt, HOST,
              errorCode="BITRATE_EXCEEDED", errorDetail="video bitrate over the stage limit"),
        event("REPLICATION_STOPPED", t("2025-06-02 14:09:00.250"), fmt, HOST, **rep),
        # A republish: stop and start at one instant.
        event("PUBLISH_STOPPED", t("2025-06-02 14:10:00"), fmt, HOST),
        event("PUBLISH_STARTED", t("2025-06-02 14:10:00"), fmt, HOST),
        # Replicated again and never stopped: an open replication.
        event("REPLICATION_STARTED", t("2025-06-02 14:12:30"), fmt, HOST, **rep),
        event("PUBLISH_STOPPED", t("2025-06-02 14:20:44"), fmt, HOST),
        event("LEFT", t("2025-06-02 14:20:44"), fmt, HOST),
    ]


def write_host_pages():
    newest_first_v2 = list(reversed(host_events(cli_v2)))
    newest_first_v1 = list(reversed(host_events(cli_v1)))
    write("host.page1.cli-v2.json", cli_json(
        {"events": newest_first_v2[0:6], "nextToken": "AAMA-EFRSURBSGh2d0tQc3lGQ2ZzT2VZSzg9PQ=="}))
    # Page 2 was saved with the CLI v1 and overlaps page 1 by one event.
    write("host.page2.cli-v1.json", cli_json(
        {"events": newest_first_v1[5:11], "nextToken": "AAMA-ZnJvbS1wYWdlLTI="}))
    write("host.page3.cli-v2.json", cli_json({"events": newest_first_v2[11:]}))


def write_guest_boto3_dump():
    # A script: resp = client.list_participant_events(...); json.dumps(resp, default=str)
    def e(name, when, **fields):
        d = {"name": name, "participantId": GUEST, "eventTime": t(when)}
        d.update(fields)
        return d

    def tok(caps, role, expires):
        return {"capabilities": caps, "attributes": {"role": role}, "userId": "guest-7",
                "expirationTime": t(expires)}

    events = [
        e("JOINED", "2025-06-02 13:59:58.602"),
        e("SUBSCRIBE_STARTED", "2025-06-02 14:00:03.100", remoteParticipantId=HOST),
        e("PUBLISH_ERROR", "2025-06-02 14:02:30.500", errorCode="INSUFFICIENT_CAPABILITIES"),
        e("TOKEN_EXCHANGED", "2025-06-02 14:03:00",
          previousToken=tok(["SUBSCRIBE"], "viewer", "2025-06-02 16:00:00"),
          newToken=tok(["PUBLISH", "SUBSCRIBE"], "speaker", "2025-06-02 16:00:00")),
        e("PUBLISH_STARTED", "2025-06-02 14:03:04.250"),
        # A reconnect: LEFT and JOINED at one instant.
        e("LEFT", "2025-06-02 14:08:15"),
        e("JOINED", "2025-06-02 14:08:15"),
        e("SUBSCRIBE_STARTED", "2025-06-02 14:08:16", remoteParticipantId=HOST),
        e("PUBLISH_STARTED", "2025-06-02 14:08:17.500"),
        e("PUBLISH_STOPPED", "2025-06-02 14:20:40.010"),
        e("SUBSCRIBE_STOPPED", "2025-06-02 14:20:44", remoteParticipantId=HOST),
        # No LEFT: the guest's connection stays open until the session's end.
    ]
    resp = {"events": events, "ResponseMetadata": {
        "RequestId": "6b1f2c3d-0000-4000-8000-000000000001", "HTTPStatusCode": 200,
        "HTTPHeaders": {"content-type": "application/json"}, "RetryAttempts": 0}}
    write("guest.boto3-str.json", json.dumps(resp, default=str) + "\n")


def write_context_ndjson():
    def line(d):
        return json.dumps({"stageArn": STAGE_A, "sessionId": S1, **d}, separators=(",", ":"))

    js = lambda dt: cli_v1(dt)  # JavaScript SDK JSON.stringify: milliseconds and Z
    lines = [
        line(event("JOINED", t("2025-06-02 14:02:00"), js, VIEWER)),
        line(event("JOIN_ERROR", t("2025-06-02 14:02:03.500"), js, RETRY, errorCode="QUOTA_EXCEEDED")),
        line(event("SUBSCRIBE_STARTED", t("2025-06-02 14:02:01.250"), js, VIEWER,
                   remoteParticipantId=HOST, replica=False)),
        line(event("JOIN_ERROR", t("2025-06-02 14:02:09"), js, RETRY, errorCode="QUOTA_EXCEEDED")),
        line(event("JOINED", t("2025-06-02 14:04:00"), js, RETRY)),
        line(event("SUBSCRIBE_STARTED", t("2025-06-02 14:04:00"), js, RETRY, remoteParticipantId=HOST)),
        # An error code this version of the API reference does not list: kept and counted.
        line(event("SUBSCRIBE_ERROR", t("2025-06-02 14:06:00"), js, VIEWER,
                   remoteParticipantId=GUEST, errorCode="SUBSCRIBER_LIMIT_REACHED")),
        line(event("LEFT", t("2025-06-02 14:15:00"), js, RETRY)),
        line(event("SUBSCRIBE_STOPPED", t("2025-06-02 14:20:44"), js, VIEWER, remoteParticipantId=HOST)),
        line(event("LEFT", t("2025-06-02 14:21:10"), js, VIEWER)),
        # The viewer's JOINED again, spelled differently and with other key order: a duplicate.
        json.dumps({"eventTime": "2025-06-02T14:02:00+00:00", "name": "JOINED",
                    "participantId": VIEWER, "sessionId": S1, "stageArn": STAGE_A}),
    ]
    write("session1.events.ndjson", "\n".join(lines) + "\n")


def write_replica_ndjson():
    def line(name, when, participant, **fields):
        return json.dumps({"stageArn": STAGE_B, "sessionId": S3,
                           **event(name, t(when), cli_v1, participant, **fields)},
                          separators=(",", ":"))

    lines = [
        line("JOINED", "2025-06-02 14:01:00.900", HOST, replica=True),
        line("PUBLISH_STARTED", "2025-06-02 14:01:01", HOST, replica=True),
        line("JOINED", "2025-06-02 14:01:30", REMOTE_VIEWER),
        # On subscribe events `replica` describes the remote participant.
        line("SUBSCRIBE_STARTED", "2025-06-02 14:01:31", REMOTE_VIEWER, remoteParticipantId=HOST,
             replica=True),
        line("PUBLISH_STOPPED", "2025-06-02 14:09:00.400", HOST, replica=True),
        line("LEFT", "2025-06-02 14:09:00.400", HOST, replica=True),
        line("JOINED", "2025-06-02 14:12:31", HOST, replica=True),
        line("PUBLISH_STARTED", "2025-06-02 14:12:31.200", HOST, replica=True),
        line("LEFT", "2025-06-02 14:24:00", REMOTE_VIEWER),
    ]
    write("replica-stage.events.ndjson", "\n".join(lines) + "\n")


def write_session2():
    # A script that saves the request parameters beside the response.
    fmt = cli_v2

    def e(name, when, **fields):
        d = {"name": name, "eventTime": fmt(t(when))}
        d.update(fields)
        return d

    def tok(caps, user, expires):
        return {"capabilities": caps, "attributes": {"team": "mods"}, "userId": user,
                "expirationTime": fmt(t(expires))}

    page = {
        "stageArn": STAGE_A,
        "sessionId": S2,
        "participantId": HOST2,
        "events": [
            e("JOINED", "2025-06-03 08:00:12"),
            e("PUBLISH_STARTED", "2025-06-03 08:00:12.250"),
            # A downgrade: losing PUBLISH unpublishes at once.
            e("TOKEN_EXCHANGED", "2025-06-03 08:00:20",
              previousToken=tok(["PUBLISH", "SUBSCRIBE"], "mod-1", "2025-06-03 12:00:00"),
              newToken=tok(["SUBSCRIBE"], "mod-1", "2025-06-03 12:00:00")),
            e("PUBLISH_STOPPED", "2025-06-03 08:00:20"),
            # A broken link: this previous token is not the last new token (another user id).
            e("TOKEN_EXCHANGED", "2025-06-03 08:05:00",
              previousToken=tok(["SUBSCRIBE"], "mod-2", "2025-06-03 12:00:00"),
              newToken=tok(["PUBLISH", "SUBSCRIBE"], "mod-2", "2025-06-03 14:00:00")),
            e("PUBLISH_STARTED", "2025-06-03 08:05:02"),
            # An event name this version does not know: stored as written and counted.
            e("PARTICIPANT_MUTED", "2025-06-03 08:06:00"),
        ],
    }
    write("session2.host.page-with-request.json", cli_json(page))

    numeric = [
        {"name": "JOINED", "participantId": NUMERIC, "eventTime": "2025-06-03T08:01:00.000Z"},
        {"name": "SUBSCRIBE_STARTED", "participantId": NUMERIC, "eventTime": "2025-06-03T08:01:05.000Z",
         "remoteParticipantId": HOST2},
        # Before the subscription began: an orphan stop, which closes nothing.
        {"name": "SUBSCRIBE_STOPPED", "participantId": NUMERIC, "eventTime": "2025-06-03T08:00:20.000Z",
         "remoteParticipantId": HOST2},
        {"name": "LEFT", "participantId": NUMERIC, "eventTime": "2025-06-03T08:09:30.000Z"},
    ]
    write("session2.viewer.events.json", json.dumps(numeric, indent=2) + "\n")


def write_records():
    write("get-participant.json", cli_json({"participant": {
        "participantId": HOST, "userId": "user-42", "state": "DISCONNECTED",
        "firstJoinTime": cli_v2(t("2025-06-02 14:00:01")),
        "attributes": {"displayName": "Ana", "role": "cohost"}, "published": True,
        "ispName": "Example Telecom", "osName": "Mac OS", "osVersion": "10.15.7",
        "browserName": "Google Chrome", "browserVersion": "137", "sdkVersion": "1.24.0",
        "recordingS3BucketName": "ivs-recordings-example",
        "recordingS3Prefix": "Src0Stage1aB/st-4HgT6yU8iO0pL/Qw3rTy7uIo9P/1748872801",
        "recordingState": "STOPPED", "protocol": "WHIP", "replicationType": "SOURCE",
        "replicationState": "STOPPED", "redundantIngest": False}}))
    write("list-participants.json", cli_json({"participants": [
        {"participantId": HOST, "userId": "user-42", "state": "DISCONNECTED",
         "firstJoinTime": cli_v2(t("2025-06-02 14:00:01")), "published": True,
         "recordingState": "STOPPED", "replicationType": "SOURCE", "replicationState": "STOPPED"},
        {"participantId": GUEST, "userId": "guest-7", "state": "CONNECTED",
         "firstJoinTime": cli_v2(t("2025-06-02 13:59:58.602")), "published": True,
         "recordingState": "DISABLED"},
    ], "nextToken": "AAMA-cGFydGljaXBhbnRzLTI="}))
    write("list-stage-sessions.json", cli_json({"stageSessions": [
        {"sessionId": S2, "startTime": cli_v2(t("2025-06-03 08:00:12"))},
        {"sessionId": S1, "startTime": cli_v2(t("2025-06-02 13:59:58.602")),
         "endTime": cli_v2(t("2025-06-02 14:25:31"))},
    ]}))


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    write_host_pages()
    write_guest_boto3_dump()
    write_context_ndjson()
    write_replica_ndjson()
    write_session2()
    write_records()
