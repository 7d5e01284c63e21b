//! API keys and their permission model, users, admin users, server information and config.

mod errors;
mod keys;
mod server;
mod users;
