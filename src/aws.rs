//! The one place where the AWS SDK's shared configuration is built: profile, region,
//! endpoint and the retry policy that every client uses.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

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
