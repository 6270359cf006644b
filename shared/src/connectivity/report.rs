//! The check's result: the seed API's `{success, message}` plus one entry per step.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorCode};

/// Stable step names, as they appear in [`StepReport::step`].
pub mod step {
    /// `AssumeRole` with the current external ID (`external_ids[0]`).
    pub const ASSUME_ROLE_CURRENT: &str = "assume_role_current";
    /// `AssumeRole` with the previous external ID (`external_ids[1]`, during rotation).
    pub const ASSUME_ROLE_PREVIOUS: &str = "assume_role_previous";
    /// sso-admin `ListInstances`: the instance is listed, `ACTIVE`, owned by the account.
    pub const LIST_INSTANCES: &str = "list_instances";
    /// `AssumeRole` without an external ID and with a random one, both of which must be denied.
    pub const EXTERNAL_ID_ENFORCED: &str = "external_id_enforced";
    /// Prefix of the read probes; the rest is the IAM action, e.g. `probe:sso:ListPermissionSets`.
    pub const PROBE_PREFIX: &str = "probe:";
}

/// One step of the check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StepReport {
    /// Stable step name (see [`step`]).
    pub step: String,
    /// Whether the step passed.
    pub ok: bool,
    /// The error code when the step failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<ErrorCode>,
    /// What happened; never contains an external ID or a credential.
    pub message: String,
    /// Wall-clock time of the step, retries and waits included.
    pub duration_ms: u64,
}

/// The result of [`super::check`]: `{success, message}` like the seed API, the steps,
/// and the failure as an [`Error`] for front-ends that report one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CheckReport {
    /// Whether every step passed.
    pub success: bool,
    /// One line: what passed, or what failed first and how to fix it.
    pub message: String,
    /// Every step that ran, in order. Steps after a failed `AssumeRole` do not run.
    pub steps: Vec<StepReport>,
    /// The first failure (in step order) with its code; absent on success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Error>,
}

impl CheckReport {
    /// The report as a `Result`: `Ok` on success, else the first failure.
    ///
    /// # Errors
    ///
    /// The code of the first failed step: `sts_assume_role_failed`, `access_denied`,
    /// `instance_not_found`, `instance_not_active`, `account_mismatch`,
    /// `external_id_not_enforced`, `throttled`, `timeout`, `network_error` or `internal`.
    pub fn into_result(self) -> Result<CheckReport, Error> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self),
        }
    }

    /// The step named `name`, if it ran.
    pub fn step(&self, name: &str) -> Option<&StepReport> {
        self.steps.iter().find(|s| s.step == name)
    }

    /// Builds the report from the steps that ran; `success_message` is used when all passed.
    pub(crate) fn from_steps(steps: Vec<StepReport>, success_message: String) -> CheckReport {
        match steps.iter().find(|s| !s.ok) {
            None => CheckReport { success: true, message: success_message, steps, error: None },
            Some(failed) => {
                let code = failed.code.unwrap_or(ErrorCode::Internal);
                let message = format!("{}: {}", failed.step, failed.message);
                let mut error = Error::new(code, message.clone());
                let others: Vec<&StepReport> =
                    steps.iter().filter(|s| !s.ok && s.step != failed.step).collect();
                for other in others {
                    error = error.with_notice(format!(
                        "{} also failed ({}): {}",
                        other.step,
                        other.code.unwrap_or(ErrorCode::Internal),
                        other.message
                    ));
                }
                CheckReport { success: false, message, steps, error: Some(error) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(name: &str, code: Option<ErrorCode>) -> StepReport {
        StepReport {
            step: name.into(),
            ok: code.is_none(),
            code,
            message: format!("{name} said so"),
            duration_ms: 1,
        }
    }

    #[test]
    fn first_failure_in_step_order_decides_the_code() {
        let r = CheckReport::from_steps(
            vec![
                s(step::ASSUME_ROLE_CURRENT, None),
                s(step::LIST_INSTANCES, Some(ErrorCode::InstanceNotActive)),
                s("probe:sso:ListPermissionSets", Some(ErrorCode::AccessDenied)),
            ],
            "fine".into(),
        );
        assert!(!r.success);
        let e = r.error.clone().unwrap();
        assert_eq!(e.code, ErrorCode::InstanceNotActive);
        assert_eq!(e.notices.len(), 1);
        assert!(e.notices[0].contains("access_denied"), "{:?}", e.notices);
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["success"], false);
        assert_eq!(json["steps"][1]["code"], "instance_not_active");
        assert!(json["steps"][0].get("code").is_none());
    }

    #[test]
    fn success_has_no_error() {
        let r = CheckReport::from_steps(vec![s(step::ASSUME_ROLE_CURRENT, None)], "fine".into());
        assert!(r.success);
        assert_eq!(r.message, "fine");
        assert!(r.into_result().is_ok());
    }
}
