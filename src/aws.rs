//! The one place where the AWS SDK's shared configuration is built: profile, region,
//! endpoint and the retry policy that every client uses.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_cognitoidentityprovider::config::http::HttpResponse;
use aws_sdk_cognitoidentityprovider::error::{ProvideErrorMetadata, SdkError};

use crate::pace::Verdict;
use crate::settings::AwsTarget;

/// Throttling (`TooManyRequestsException`) and transient errors (5xx, timeouts) are
/// retried by the SDK with jittered exponential backoff: up to 8 attempts, waits from
/// 200 ms doubling to at most 5 s. The SDK's adaptive mode is not used: its client-side
/// limiter slows a whole run down to a crawl after a few throttles, and the one request
/// rate that matters (the ListUsers walk, 30 RPS per account \[QUOTAS\]) has its own limiter
/// in `pool::aws`.
pub fn retry_config() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(8)
        .with_initial_backoff(Duration::from_millis(200))
        .with_max_backoff(Duration::from_secs(5))
}

/// The retry policy of clients whose requests go through [`crate::pace::Pacer::send`]: none,
/// as the pacer retries, paces every attempt and slows a throttled category down.
pub fn paced_retry_config() -> RetryConfig {
    RetryConfig::disabled()
}

/// What a failed Cognito request means for the pacer: throttled (slow down and retry),
/// transient (5xx, connection, timeout: retry a few times) or final. By error code and
/// HTTP status, never by message.
pub fn verdict<E: ProvideErrorMetadata>(error: &SdkError<E, HttpResponse>) -> Verdict {
    match error {
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => return Verdict::Transient,
        SdkError::DispatchFailure(failure) => {
            return if failure.is_io() || failure.is_timeout() { Verdict::Transient } else { Verdict::Final };
        }
        _ => {}
    }
    match error.code() {
        Some("TooManyRequestsException" | "ThrottlingException" | "Throttling" | "RequestLimitExceeded") => {
            Verdict::Throttled
        }
        Some("InternalErrorException" | "InternalFailure" | "ServiceUnavailable" | "ServiceUnavailableException") => {
            Verdict::Transient
        }
        _ if error.raw_response().is_some_and(|r| r.status().is_server_error()) => Verdict::Transient,
        _ => Verdict::Final,
    }
}

/// Builds the SDK configuration. `default_region` is the manifest's pool region, used
/// when neither `--region` nor the environment names one... and `--region` wins over it.
pub async fn sdk_config(target: &AwsTarget, default_region: Option<&str>) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).retry_config(retry_config());
    if let Some(profile) = &target.profile {
        loader = loader.profile_name(profile);
    }
    // The pool id names the pool's region; a region from the environment would only point
    // at the wrong one, so the manifest's wins unless `--region` is given.
    if let Some(region) = target.region.as_deref().or(default_region) {
        loader = loader.region(Region::new(region.to_owned()));
    }
    if let Some(url) = &target.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}
