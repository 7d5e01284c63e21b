//! Outgoing e-mail over SMTP with the `notifications.smtp` settings: `secure` means TLS from
//! the first byte (port 465 style), otherwise STARTTLS when the server offers it. Every step has
//! a deadline, so a server that does not answer costs seconds, not minutes.

pub mod templates;

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use thiserror::Error;

pub use crate::system_config::sections::{
    NotificationsSmtpConfig as SmtpConfig, NotificationsSmtpTransportConfig as SmtpTransportConfig,
};

use templates::Rendered;

/// Per connection attempt and per SMTP command (nodemailer's connection timeout in Immich).
const STEP_TIMEOUT: Duration = Duration::from_secs(5);
/// A whole verification or delivery, whatever the server does.
const TOTAL_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, Error)]
pub enum EmailError {
    #[error("invalid address {address:?}: {reason}")]
    Address { address: String, reason: String },
    #[error("cannot build the message: {0}")]
    Message(#[from] lettre::error::Error),
    #[error("SMTP: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("the SMTP server did not answer the test command")]
    NotConnected,
    #[error("the SMTP server did not answer within {} seconds", TOTAL_TIMEOUT.as_secs())]
    Timeout,
}

/// A picture shown inside the message (`cid:<cid>` in its HTML).
#[derive(Debug, Clone)]
pub struct InlineImage {
    pub cid: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub body: Rendered,
    pub image: Option<InlineImage>,
}

fn transport(settings: &SmtpTransportConfig) -> Result<AsyncSmtpTransport<Tokio1Executor>, EmailError> {
    let tls = TlsParameters::builder(settings.host.clone())
        .dangerous_accept_invalid_certs(settings.ignore_cert)
        .dangerous_accept_invalid_hostnames(settings.ignore_cert)
        .build_rustls()?;
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(settings.host.as_str())
        // The settings allow 0-65535 (checked when saved); anything else falls back to submission.
        .port(u16::try_from(settings.port).unwrap_or(587))
        .timeout(Some(STEP_TIMEOUT))
        .tls(if settings.secure {
            Tls::Wrapper(tls)
        } else {
            Tls::Opportunistic(tls)
        });
    if !settings.username.is_empty() || !settings.password.is_empty() {
        builder = builder.credentials(Credentials::new(settings.username.clone(), settings.password.clone()));
    }
    Ok(builder.build())
}

async fn within<T>(work: impl Future<Output = Result<T, EmailError>>) -> Result<T, EmailError> {
    tokio::time::timeout(TOTAL_TIMEOUT, work)
        .await
        .unwrap_or(Err(EmailError::Timeout))
}

/// Connects, greets, signs in when credentials are given, and leaves again.
pub async fn verify(settings: &SmtpTransportConfig) -> Result<(), EmailError> {
    let transport = transport(settings)?;
    within(async move {
        if transport.test_connection().await? {
            Ok(())
        } else {
            Err(EmailError::NotConnected)
        }
    })
    .await
}

fn mailbox(address: &str) -> Result<Mailbox, EmailError> {
    address
        .trim()
        .parse()
        .map_err(|e: lettre::address::AddressError| EmailError::Address {
            address: address.to_string(),
            reason: e.to_string(),
        })
}

/// Sends `email` from `smtp.from` (replies to `replyTo`, else to the sender); returns the
/// message's `Message-ID`.
pub async fn send(smtp: &SmtpConfig, email: Email) -> Result<String, EmailError> {
    let from = mailbox(&smtp.from)?;
    let reply_to = if smtp.reply_to.trim().is_empty() {
        from.clone()
    } else {
        mailbox(&smtp.reply_to)?
    };
    let message_id = format!("<{}@{}>", uuid::Uuid::new_v4(), from.email.domain());
    let html = SinglePart::html(email.body.html);
    // A picture of a type we cannot name is left out rather than failing the message.
    let image = email
        .image
        .and_then(|image| ContentType::parse(&image.content_type).ok().map(|kind| (image, kind)));
    let html_part = match image {
        Some((image, kind)) => MultiPart::related()
            .singlepart(html)
            .singlepart(Attachment::new_inline(image.cid).body(image.bytes, kind)),
        None => MultiPart::related().singlepart(html),
    };
    let message = Message::builder()
        .from(from)
        .reply_to(reply_to)
        .to(mailbox(&email.to)?)
        .subject(email.subject)
        .message_id(Some(message_id.clone()))
        .multipart(
            MultiPart::alternative()
                .singlepart(SinglePart::plain(email.body.text))
                .multipart(html_part),
        )?;
    let transport = transport(&smtp.transport)?;
    within(async move { transport.send(message).await.map_err(EmailError::from) }).await?;
    Ok(message_id)
}
