//! cognito-sync: declare the users of an AWS Cognito user pool in a YAML manifest, plan the
//! difference against the pool, and import the missing users with one Cognito import job.

pub mod manifest;
