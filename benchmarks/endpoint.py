"""Measure the MCP endpoint's cold-start imports and warm per-invocation cost (medians; no assertions).

    .venv/bin/python benchmarks/endpoint.py [--runs 200]

Cold: importing functions/mcp_endpoint/app.py in a fresh interpreter, against a baseline of importing the MCP
SDK's server package alone (what any MCP server on Lambda pays). Warm: the Lambda handler invoked with the sample
HTTP API events in one process (a new app and Mangum adapter per invocation), against a baseline of building that
app and adapter without serving a request. DynamoDB and Step Functions are moto, in-process.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def import_seconds(statement: str, runs: int, setup: str = "pass") -> float:
    code = f"{setup}; import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    samples = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT / "functions" / "mcp_endpoint",
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "1"},
        )
        samples.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(samples)


def rs256_verify_ms(runs: int) -> float:
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = {"iss": "https://issuer.example", "sub": "alice", "aud": "longhaul", "exp": int(time.time()) + 600}
    token = jwt.encode(claims, key, algorithm="RS256")
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        jwt.decode(token, key.public_key(), algorithms=["RS256"], audience="longhaul", issuer="https://issuer.example")
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200, help="warm invocations per measurement")
    parser.add_argument("--cold-runs", type=int, default=7, help="fresh interpreters per import measurement")
    args = parser.parse_args()

    sdk = import_seconds("import mcp.server.mcpserver", args.cold_runs)
    endpoint = import_seconds("import app", args.cold_runs)
    print(
        f"cold import, median of {args.cold_runs}: MCP SDK server alone {sdk * 1000:.0f} ms; "
        f"endpoint module {endpoint * 1000:.0f} ms ({endpoint / sdk:.2f}x the SDK alone)"
    )
    # Bearer tokens are verified in the function (endpoint/tokens.py): what that adds to a cold start, and to each
    # warm request once the issuer's keys are cached (one RS256 signature check).
    pyjwt = import_seconds("import jwt", args.cold_runs, setup="import mcp.server.mcpserver")
    print(f"cold import of PyJWT after the SDK: {pyjwt * 1000:.1f} ms (median of {args.cold_runs})")
    print(f"warm RS256 token verification, median of {args.runs}: {rs256_verify_ms(args.runs):.3f} ms")

    os.environ.update(
        {
            "POWERTOOLS_TRACE_DISABLED": "1",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "POWERTOOLS_METRICS_NAMESPACE": "Longhaul",
            "POWERTOOLS_METRICS_DISABLED": "1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "x",
            "AWS_SECRET_ACCESS_KEY": "x",
        }
    )
    import warnings

    warnings.filterwarnings("ignore")
    from mangum import Mangum
    from moto import mock_aws

    from longhaul.endpoint.app import build_app
    from longhaul_dev import moto_lambda
    from longhaul_dev.moto_lambda import LocalLambdaContext, load_handler
    from longhaul_dev.stack import MOTO_CONFIG, apply_environment, create_local_stack

    with mock_aws(config=MOTO_CONFIG):
        moto_lambda.install()
        apply_environment(create_local_stack())
        handler = load_handler(ROOT / "functions" / "mcp_endpoint", "app.lambda_handler")
        context = LocalLambdaContext(function_name="McpEndpointFunction", timeout_seconds=30)

        def median_ms(fn) -> float:
            samples = []
            for _ in range(args.runs):
                start = time.perf_counter()
                fn()
                samples.append(time.perf_counter() - start)
            return statistics.median(samples) * 1000

        build = median_ms(lambda: Mangum(build_app(), lifespan="auto"))
        for name in ("http_api_tools_list", "http_api_start_model_training"):
            event = json.loads((ROOT / "events" / "mcp_endpoint" / f"{name}.json").read_text())
            if "start" in name:  # a new task each time: drop the idempotency key
                body = json.loads(event["body"])
                body["params"]["arguments"].pop("idempotency_key")
                body["params"]["arguments"].update(epochs=1, epoch_seconds=0)
                event["body"] = json.dumps(body)
            served = median_ms(lambda e=event: handler(copy.deepcopy(e), context))
            print(
                f"warm {name}, median of {args.runs}: {served:.2f} ms per invocation; "
                f"app + adapter build alone {build:.3f} ms ({build / served:.1%} of it)"
            )
        moto_lambda.uninstall()


if __name__ == "__main__":
    main()
