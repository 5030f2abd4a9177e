"""The conformance steps driven by the official Python client (Debian's python3-kubernetes), unmodified.

Usage: python3 python_client.py KUBECONFIG NAMESPACE. Prints one JSON list of [step, result] pairs
on stdout, in the shape every client's driver prints (see conformance.test.ts).
"""
import base64
import json
import sys
import threading
import time

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException
from kubernetes.stream import stream

kubeconfig, ns = sys.argv[1], sys.argv[2]
config.load_kube_config(config_file=kubeconfig)
v1 = client.CoreV1Api()
authz = client.AuthorizationV1Api()
out = []


def record(step, result):
    out.append([step, result])


def failure(fn):
    try:
        fn()
        return "no error"
    except ApiException as e:
        body = json.loads(e.body)
        return "%d %s %s" % (e.status, body.get("reason", ""), body.get("message", ""))


def cm_text(cm):
    return "%s %s" % (cm.metadata.name, ",".join("%s=%s" % kv for kv in sorted((cm.data or {}).items())))


cm = v1.create_namespaced_config_map(ns, {"metadata": {"name": "c1", "labels": {"app": "conf"}}, "data": {"a": "1"}})
record("configmap create", cm_text(cm))
record("configmap get", cm_text(v1.read_namespaced_config_map("c1", ns)))
record("configmap list by label", ",".join(i.metadata.name for i in v1.list_namespaced_config_map(ns, label_selector="app=conf").items))
record("configmap patch", cm_text(v1.patch_namespaced_config_map("c1", ns, {"data": {"a": "2"}})))
record("get missing", failure(lambda: v1.read_namespaced_config_map("nope", ns)))
record("create duplicate", failure(lambda: v1.create_namespaced_config_map(ns, {"metadata": {"name": "c1"}})))
record("create invalid", failure(lambda: v1.create_namespaced_config_map(ns, {"metadata": {"name": "Bad_Name"}})))

v1.create_namespaced_secret(ns, {"metadata": {"name": "s1"}, "data": {"token": base64.b64encode(b"secret").decode()}})
s = v1.read_namespaced_secret("s1", ns)
record("secret get", "%s %s token=%s" % (s.metadata.name, s.type, base64.b64decode(s.data["token"]).decode()))
v1.create_namespaced_service(ns, {"metadata": {"name": "svc1"}, "spec": {"selector": {"app": "conf"}, "ports": [{"port": 80}]}})
svc = v1.read_namespaced_service("svc1", ns)
record("service get", "%s %d" % (svc.metadata.name, svc.spec.ports[0].port))
v1.create_namespaced_service_account(ns, {"metadata": {"name": "sa1"}})
record("serviceaccount get", v1.read_namespaced_service_account("sa1", ns).metadata.name)

review = authz.create_self_subject_access_review({"spec": {"resourceAttributes": {"namespace": ns, "verb": "create", "resource": "pods", "subresource": "exec"}}})
record("access review", "allowed=%s" % str(review.status.allowed).lower())

rv = v1.list_namespaced_config_map(ns).metadata.resource_version
events = []


def changes():
    time.sleep(0.2)
    v1.create_namespaced_config_map(ns, {"metadata": {"name": "w1"}})
    v1.patch_namespaced_config_map("w1", ns, {"data": {"x": "y"}})
    v1.delete_namespaced_config_map("w1", ns)


t = threading.Thread(target=changes)
t.start()
w = watch.Watch()
for ev in w.stream(v1.list_namespaced_config_map, ns, field_selector="metadata.name=w1", resource_version=rv, timeout_seconds=20):
    events.append("%s %s" % (ev["type"], ev["object"].metadata.name))
    if ev["type"] == "DELETED":
        w.stop()
t.join()
record("watch", ", ".join(events))

pod = {
    "metadata": {"name": "p1"},
    "spec": {
        "restartPolicy": "Never",
        "terminationGracePeriodSeconds": 5,
        "containers": [{"name": "main", "image": "alpine:3.20", "command": ["sh", "-c", "trap 'exit 0' TERM; echo hello; while true; do sleep 0.05; done"],
                        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}],
    },
}
v1.create_namespaced_pod(ns, pod)
while v1.read_namespaced_pod("p1", ns).status.phase != "Running":
    time.sleep(0.05)
record("pod running", "Running")
while v1.read_namespaced_pod_log("p1", ns) == "":
    time.sleep(0.05)
record("pod log", v1.read_namespaced_pod_log("p1", ns))
ex = stream(v1.connect_get_namespaced_pod_exec, "p1", ns, command=["sh", "-c", "echo out; exit 3"], stderr=True, stdin=False, stdout=True, tty=False, _preload_content=False)
ex.run_forever(timeout=20)
record("pod exec", "%s exit=%s" % (ex.read_stdout().strip(), ex.returncode))
deleted = v1.delete_namespaced_pod("p1", ns)
record("pod delete", "deletionGracePeriodSeconds=%s deletionTimestamp=%s" % (deleted.metadata.deletion_grace_period_seconds, str(deleted.metadata.deletion_timestamp is not None).lower()))
while True:
    try:
        v1.read_namespaced_pod("p1", ns)
        time.sleep(0.05)
    except ApiException as e:
        record("pod gone", str(e.status))
        break

for kind, fn in [("configmap", v1.delete_namespaced_config_map), ("secret", v1.delete_namespaced_secret), ("service", v1.delete_namespaced_service), ("serviceaccount", v1.delete_namespaced_service_account)]:
    fn({"configmap": "c1", "secret": "s1", "service": "svc1", "serviceaccount": "sa1"}[kind], ns)
record("cleanup", failure(lambda: v1.read_namespaced_config_map("c1", ns)))

print(json.dumps(out))
