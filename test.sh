#!/usr/bin/env bash
# Runs every test: unit tests, then end-to-end tests against the real server with real clients.
set -euo pipefail
cd "$(dirname "$0")"
dotnet build Portcullis.slnx -c Release
dotnet test tests/Portcullis.Server.Tests -c Release --no-build
dotnet test tests/Portcullis.E2E.Tests -c Release --no-build
