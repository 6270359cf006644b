"""The Python baseline of bench/lambda-cold-start.sh: a crhelper custom resource
doing the least a CloudFormation custom resource does (read properties, answer
with data), under the same Runtime API emulator as the Rust Lambda."""

from crhelper import CfnResource

helper = CfnResource(json_logging=False, log_level="WARNING", boto_level="CRITICAL", sleep_on_delete=0)


@helper.create
@helper.update
def create(event, _context):
    props = event["ResourceProperties"]
    role_arn = f"arn:aws:iam::{props['AwsAccountId']}:role/IdcBootstrapTrust"
    helper.Data["RoleArn"] = role_arn
    return role_arn


@helper.delete
def delete(_event, _context):
    pass


def handler(event, context):
    helper(event, context)
