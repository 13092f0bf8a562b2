#!/usr/bin/env bash
# Runs every test: unit tests, then end-to-end tests against the real server with real clients.
set -euo pipefail
cd "$(dirname "$0")"
dotnet build Portcullis.slnx -c Release
# A test that hangs fails its run after 10 minutes, naming itself (the blame collector's sequence
# file lists the tests in flight), instead of holding CI until its time runs out.
hang=(--blame-hang-timeout 10m --blame-hang-dump-type none)
dotnet test tests/Portcullis.Server.Tests -c Release --no-build "${hang[@]}"
dotnet test tests/Portcullis.Analysis.Tests -c Release --no-build "${hang[@]}"
dotnet test tests/Portcullis.Cel.Tests -c Release --no-build "${hang[@]}"
# The JavaScript client suite's packages (pinned in its package-lock.json), on a fresh machine.
[ -d tests/clients/js/node_modules ] || (cd tests/clients/js && npm ci --no-audit --no-fund)
dotnet test tests/Portcullis.E2E.Tests -c Release --no-build "${hang[@]}"
# The in-process test host (Portcullis.Testing): clusters started inside the test process, driven by KubernetesClient and kubectl.
dotnet test tests/Portcullis.Testing.Tests -c Release --no-build "${hang[@]}"
# The sample operator's tests (samples/, xUnit and NUnit): Portcullis.Testing in-process, the operator as its ServiceAccount.
dotnet test samples/ConfigMapOperator.Tests -c Release --no-build "${hang[@]}"
dotnet test samples/ConfigMapOperator.NUnitTests -c Release --no-build "${hang[@]}"

# The shipped binary: publish the Native AOT executable and run the end-to-end tests of the seed
# walkthrough, kubectl, curl, hostile bodies, the HTTP fuzz test, access who-can, the access report, the CRD tests (the CEL engine under Native AOT), server-side apply, port-forward (SPDY, zlib, the hand-made WebSocket handshake) and the ReplicaSet, Deployment (go-spew hashing) and disruption controllers against it too (it must behave
# exactly as the JIT build), and the etcd backend (the gRPC client under Native AOT), /metrics (OpenTelemetry's exporter under Native AOT), the audit log and encryption at rest (AES, secretbox, the KMS v2 gRPC client over a unix socket), and the
# official JavaScript and Python clients' scenarios (tests/clients/js, tests/clients/python).
dotnet publish src/Portcullis -c Release -o .aot
PORTCULLIS_E2E_SERVER="$PWD/.aot/portcullis" dotnet test tests/Portcullis.E2E.Tests -c Release --no-build "${hang[@]}" \
  --filter "FullyQualifiedName~SeedApiTests|FullyQualifiedName~SeedWalkthrough|FullyQualifiedName~KubectlTests|FullyQualifiedName~CurlTests|FullyQualifiedName~GarbageCollectorTests|FullyQualifiedName~ProtobufTests|FullyQualifiedName~HttpFuzzTests|FullyQualifiedName~HostileBodyTests|FullyQualifiedName~AccessWhoCanTests|FullyQualifiedName~AccessReportTests|FullyQualifiedName~CustomResourceTests|FullyQualifiedName~ServerSideApplyTests|FullyQualifiedName~ProcessRuntimeTests.PortForward|FullyQualifiedName~ReplicaSetControllerTests|FullyQualifiedName~DeploymentControllerTests|FullyQualifiedName~DisruptionTests|FullyQualifiedName~EtcdStorageTests|FullyQualifiedName~MetricsTests|FullyQualifiedName~Audit|FullyQualifiedName~EncryptionAtRestTests|FullyQualifiedName~JavaScriptClientTests|FullyQualifiedName~PythonClientTests"
