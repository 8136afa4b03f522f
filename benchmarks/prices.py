"""The list prices ``make bench`` prices a task at: us-east-1, on-demand, no free tier. The one place they live.

Recorded on PRICES_DATE from the AWS pricing pages named beside each price; those pages are the authority (prices
change; the free tiers - e.g. 4,000 state transitions and 400,000 Lambda GB-s a month - are left out on purpose,
so the figures hold for an account that has used them up).
"""

from __future__ import annotations

from dataclasses import dataclass

PRICES_DATE = "2026-11-27"
REGION = "us-east-1"


@dataclass(frozen=True)
class Price:
    usd: float  # dollars per ``per`` units
    per: int
    unit: str
    source: str  # the AWS pricing page it comes from

    def cost(self, quantity: float) -> float:
        return quantity * self.usd / self.per


PRICES: dict[str, Price] = {
    "transition": Price(0.025, 1_000, "state transition (Standard workflow)", "AWS Step Functions Pricing"),
    "lambda_request": Price(0.20, 1_000_000, "Lambda request", "AWS Lambda Pricing"),
    "lambda_gb_second": Price(0.0000133334, 1, "GB-second, arm64 (first 7.5 billion a month)", "AWS Lambda Pricing"),
    "api_request": Price(1.00, 1_000_000, "HTTP API request (first 300 million a month)", "Amazon API Gateway Pricing"),
    "wru": Price(0.625, 1_000_000, "DynamoDB write request unit (on-demand)", "Amazon DynamoDB Pricing"),
    "rru": Price(0.125, 1_000_000, "DynamoDB read request unit (on-demand)", "Amazon DynamoDB Pricing"),
    "memory_event": Price(0.25, 1_000, "AgentCore Memory new short-term event", "Amazon Bedrock AgentCore Pricing"),
    "s3_put": Price(0.005, 1_000, "S3 PUT request (S3 Standard)", "Amazon S3 Pricing"),
    "s3_get": Price(0.0004, 1_000, "S3 GET request (S3 Standard)", "Amazon S3 Pricing"),
}
