//! The integration suite, one test binary: every area below starts real servers against the
//! real PostgreSQL and Redis. One binary rather than one per area keeps the build to a single
//! link of the whole server (each link is hundreds of megabytes and minutes of CI).
//!
//! Run one area with `cargo test -p darkroom-tests --test integration <area>::`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod access_matrix;
mod advisories;
mod albums;
mod api;
mod assets;
mod auth;
mod clients;
mod forward_auth;
mod heatmap;
mod hostile_text;
mod jobs;
mod machine_learning;
mod maintenance;
mod memories;
mod notifications;
mod oauth;
mod oidc_provider;
mod organising;
mod people;
mod places;
mod resumable;
mod screens;
mod search;
mod shared_links;
mod startup;
mod sync;
mod tags;
mod telemetry;
mod timeline;
mod wire;
