//! E-mail over SMTP (RFC 5321), as pure parts: the message as RFC 5322 text,
//! and the client's side of the dialogue as a state machine fed the
//! server's replies. The Worker only moves bytes (`routes/notify.rs`, a TCP
//! socket). Hand-written: the crates (lettre) bring their own transports and
//! runtimes, none of them the Workers' sockets; the client needs a few
//! commands.

use crate::message::Email;
use base64::Engine;
use model::time::{date_of_epoch_day, DAY_MS};

/// How the connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Plain text: a relay on this machine or a private network.
    Plain,
    /// Plain, then `STARTTLS` before anything else (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
}

/// An SMTP server to send through (`SMTP_URL`, `MAIL_FROM`).
#[derive(Clone, PartialEq, Eq)]
pub struct Server {
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// `AUTH PLAIN` user and password, if the server wants them.
    pub login: Option<(String, String)>,
    /// The envelope and `From:` address.
    pub from: String,
}

impl std::fmt::Debug for Server {
    // the password never reaches a log
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("user", &self.login.as_ref().map(|(user, _)| user))
            .field("from", &self.from)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmtpError {
    #[error("the SMTP server answered {code} to {step}: {text}")]
    Refused {
        step: &'static str,
        code: u16,
        text: String,
    },
    #[error("the SMTP server sent an unreadable reply")]
    Unreadable,
    #[error("an e-mail without recipients")]
    NoRecipients,
}

/// A server reply: its code and its (last) line's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub text: String,
}

/// The first whole reply in `buffer` (multi-line replies end with a line
/// `<code> <text>`), and the bytes it took; `None` until one is whole.
pub fn read_reply(buffer: &[u8]) -> Option<Result<(Reply, usize), SmtpError>> {
    let mut start = 0;
    while let Some(end) = buffer[start..].windows(2).position(|w| w == b"\r\n") {
        let line = &buffer[start..start + end];
        start += end + 2;
        let code = line
            .get(..3)
            .and_then(|c| std::str::from_utf8(c).ok())
            .and_then(|c| c.parse::<u16>().ok());
        let Some(code) = code else {
            return Some(Err(SmtpError::Unreadable));
        };
        match line.get(3) {
            Some(b'-') => continue,
            Some(b' ') | None => {
                let text = String::from_utf8_lossy(line.get(4..).unwrap_or(&[])).into_owned();
                return Some(Ok((Reply { code, text }, start)));
            }
            Some(_) => return Some(Err(SmtpError::Unreadable)),
        }
    }
    None
}

/// What the client does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Write these bytes, then read a reply.
    Send(Vec<u8>),
    /// Upgrade the connection to TLS, then write these bytes and read a reply.
    UpgradeThenSend(Vec<u8>),
    /// The message is accepted: write these bytes (`QUIT`) if the
    /// connection still takes them, and close it; nothing after matters.
    Delivered(Vec<u8>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Greeting,
    Hello,
    StartTls,
    HelloAgain,
    Auth,
    MailFrom,
    Recipient(usize),
    Data,
    Message,
}

/// One message's session: feed it each reply, do what it says.
#[derive(Debug)]
pub struct Session {
    server: Server,
    recipients: Vec<String>,
    message: Vec<u8>,
    step: Step,
}

impl Session {
    /// `message` is [`encode`]'s output; nothing is sent before the greeting.
    pub fn new(server: &Server, recipients: &[String], message: String) -> Session {
        Session {
            server: server.clone(),
            recipients: recipients.to_vec(),
            message: message.into_bytes(),
            step: Step::Greeting,
        }
    }

    fn hello(&self) -> Vec<u8> {
        // the client's name: the sender's domain (no host name of ours to give)
        let domain = self.server.from.rsplit('@').next().unwrap_or("localhost");
        format!("EHLO {domain}\r\n").into_bytes()
    }

    fn after_hello(&mut self) -> Action {
        match &self.server.login {
            Some((user, password)) => {
                self.step = Step::Auth;
                let token = base64::engine::general_purpose::STANDARD
                    .encode(format!("\0{user}\0{password}"));
                Action::Send(format!("AUTH PLAIN {token}\r\n").into_bytes())
            }
            None => self.mail_from(),
        }
    }

    fn mail_from(&mut self) -> Action {
        self.step = Step::MailFrom;
        Action::Send(format!("MAIL FROM:<{}>\r\n", self.server.from).into_bytes())
    }

    fn recipient(&mut self, i: usize) -> Action {
        self.step = Step::Recipient(i);
        Action::Send(format!("RCPT TO:<{}>\r\n", self.recipients[i]).into_bytes())
    }

    /// The next action after `reply` to the last one.
    pub fn next(&mut self, reply: &Reply) -> Result<Action, SmtpError> {
        let (name, wanted): (&'static str, &[u16]) = match self.step {
            Step::Greeting => ("the greeting", &[220]),
            Step::Hello | Step::HelloAgain => ("EHLO", &[250]),
            Step::StartTls => ("STARTTLS", &[220]),
            Step::Auth => ("AUTH", &[235]),
            Step::MailFrom => ("MAIL FROM", &[250]),
            Step::Recipient(_) => ("RCPT TO", &[250, 251]),
            Step::Data => ("DATA", &[354]),
            Step::Message => ("the message", &[250]),
        };
        if !wanted.contains(&reply.code) {
            return Err(SmtpError::Refused {
                step: name,
                code: reply.code,
                text: reply.text.chars().take(200).collect(),
            });
        }
        Ok(match self.step {
            Step::Greeting => {
                self.step = Step::Hello;
                Action::Send(self.hello())
            }
            Step::Hello if self.server.security == Security::StartTls => {
                self.step = Step::StartTls;
                Action::Send(b"STARTTLS\r\n".to_vec())
            }
            Step::StartTls => {
                self.step = Step::HelloAgain;
                Action::UpgradeThenSend(self.hello())
            }
            Step::Hello | Step::HelloAgain => self.after_hello(),
            Step::Auth => self.mail_from(),
            Step::MailFrom if self.recipients.is_empty() => return Err(SmtpError::NoRecipients),
            Step::MailFrom => self.recipient(0),
            Step::Recipient(i) if i + 1 < self.recipients.len() => self.recipient(i + 1),
            Step::Recipient(_) => {
                self.step = Step::Data;
                Action::Send(b"DATA\r\n".to_vec())
            }
            Step::Data => {
                self.step = Step::Message;
                let mut data = std::mem::take(&mut self.message);
                data.extend_from_slice(b".\r\n");
                Action::Send(data)
            }
            Step::Message => Action::Delivered(b"QUIT\r\n".to_vec()),
        })
    }
}

/// `email` as RFC 5322 text with CRLF line ends, ready for `DATA`: a UTF-8
/// plain-text body in base64 (no line is too long, and none starts with a
/// dot that would need doubling). `now_ms` dates it; `id` is unique.
pub fn encode(email: &Email, from: &str, now_ms: u64, id: &str) -> String {
    let domain = from.rsplit('@').next().unwrap_or("localhost");
    let body = base64::engine::general_purpose::STANDARD.encode(email.text.as_bytes());
    let mut text = String::new();
    for (name, value) in [
        ("From", from.to_string()),
        ("To", email.to.join(", ")),
        ("Subject", header_text(&email.subject)),
        ("Date", rfc5322_date(now_ms)),
        ("Message-ID", format!("<{id}@{domain}>")),
        ("MIME-Version", "1.0".into()),
        ("Content-Type", "text/plain; charset=utf-8".into()),
        ("Content-Transfer-Encoding", "base64".into()),
        // RFC 3834: no out-of-office replies to a machine's mail
        ("Auto-Submitted", "auto-generated".into()),
    ] {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    for chunk in body.as_bytes().chunks(76) {
        text.push_str(&String::from_utf8_lossy(chunk));
        text.push_str("\r\n");
    }
    text
}

/// A header's text: ASCII as it is, else RFC 2047 encoded words of UTF-8,
/// each short enough for a header line. Line breaks never pass.
fn header_text(text: &str) -> String {
    let one_line: String = text.chars().filter(|c| !c.is_control()).collect();
    if one_line.is_ascii() {
        return one_line;
    }
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in one_line.chars() {
        if chunk.len() + c.len_utf8() > 45 {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    words.push(chunk);
    words
        .iter()
        .map(|w| {
            format!(
                "=?UTF-8?B?{}?=",
                base64::engine::general_purpose::STANDARD.encode(w.as_bytes())
            )
        })
        .collect::<Vec<_>>()
        .join("\r\n ")
}

/// `Mon, 30 Nov 2026 15:04:05 +0000`.
pub fn rfc5322_date(ms: u64) -> String {
    let days = (ms / DAY_MS) as i64;
    let date = date_of_epoch_day(days);
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][days.rem_euclid(7) as usize];
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = date
        .get(5..7)
        .and_then(|m| m.parse::<usize>().ok())
        .and_then(|m| months.get(m.wrapping_sub(1)))
        .copied()
        .unwrap_or("Jan");
    let seconds = ms / 1000 % 86_400;
    format!(
        "{weekday}, {} {month} {} {:02}:{:02}:{:02} +0000",
        date.get(8..10).unwrap_or("01").trim_start_matches('0'),
        date.get(..4).unwrap_or("1970"),
        seconds / 3600,
        seconds % 3600 / 60,
        seconds % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(security: Security, login: bool) -> Server {
        Server {
            host: "mail.example".into(),
            port: 587,
            security,
            login: login.then(|| ("u".to_string(), "p".to_string())),
            from: "analytics@portal.example".into(),
        }
    }

    fn reply(code: u16) -> Reply {
        Reply {
            code,
            text: "ok".into(),
        }
    }

    fn sent(action: Action) -> String {
        match action {
            Action::Send(bytes) => format!("> {}", String::from_utf8_lossy(&bytes)),
            Action::UpgradeThenSend(bytes) => format!("TLS> {}", String::from_utf8_lossy(&bytes)),
            Action::Delivered(bytes) => format!("delivered> {}", String::from_utf8_lossy(&bytes)),
        }
    }

    #[test]
    fn a_session_says_what_rfc_5321_wants_in_order() {
        let to = vec!["a@b.io".to_string(), "c@d.io".to_string()];
        let mut session = Session::new(&server(Security::StartTls, true), &to, "MSG\r\n".into());
        let mut log = Vec::new();
        for code in [220, 250, 220, 250, 235, 250, 250, 251, 354, 250] {
            log.push(sent(session.next(&reply(code)).unwrap()));
        }
        assert_eq!(
            log,
            [
                "> EHLO portal.example\r\n",
                "> STARTTLS\r\n",
                "TLS> EHLO portal.example\r\n",
                "> AUTH PLAIN AHUAcA==\r\n",
                "> MAIL FROM:<analytics@portal.example>\r\n",
                "> RCPT TO:<a@b.io>\r\n",
                "> RCPT TO:<c@d.io>\r\n",
                "> DATA\r\n",
                "> MSG\r\n.\r\n",
                "delivered> QUIT\r\n",
            ]
        );
        // a plain relay: no STARTTLS, no AUTH
        let mut plain = Session::new(&server(Security::Plain, false), &to[..1], "M\r\n".into());
        plain.next(&reply(220)).unwrap();
        assert_eq!(
            sent(plain.next(&reply(250)).unwrap()),
            "> MAIL FROM:<analytics@portal.example>\r\n"
        );
        // no recipient: refused before anything is sent for one
        let mut nobody = Session::new(&server(Security::Plain, false), &[], "M\r\n".into());
        nobody.next(&reply(220)).unwrap();
        nobody.next(&reply(250)).unwrap();
        assert_eq!(nobody.next(&reply(250)), Err(SmtpError::NoRecipients));
        assert!(!format!("{:?}", server(Security::Tls, true)).contains("\"p\""));
        // a refusal names its step and the server's words
        let mut refused = Session::new(&server(Security::Plain, false), &to[..1], "M\r\n".into());
        refused.next(&reply(220)).unwrap();
        refused.next(&reply(250)).unwrap();
        let error = refused
            .next(&Reply {
                code: 550,
                text: "no such user".into(),
            })
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "the SMTP server answered 550 to MAIL FROM: no such user"
        );
    }

    #[test]
    fn replies_are_read_whole() {
        assert_eq!(read_reply(b"250-mail.example\r\n250-SIZE 1000"), None);
        let (r, used) = read_reply(b"250-mail.example\r\n250 8BITMIME\r\n220 next")
            .unwrap()
            .unwrap();
        assert_eq!((r.code, r.text.as_str(), used), (250, "8BITMIME", 32));
        assert_eq!(read_reply(b"hello\r\n"), Some(Err(SmtpError::Unreadable)));
    }

    #[test]
    fn messages_are_dated_encoded_and_one_line_per_header() {
        let email = Email {
            to: vec!["a@b.io".into()],
            subject: "Überraschung\r\nBcc: x@y.z".into(),
            text: ".a dot first\nand ünïcode".into(),
        };
        let text = encode(&email, "analytics@portal.example", 1_796_050_800_000, "r1");
        assert!(
            text.contains("Date: Mon, 30 Nov 2026 15:00:00 +0000\r\n"),
            "{text}"
        );
        assert!(text.contains("Subject: =?UTF-8?B?"), "{text}");
        assert!(!text.contains("\nBcc"));
        assert!(text.contains("Message-ID: <r1@portal.example>\r\n"));
        let body = text.split("\r\n\r\n").nth(1).unwrap().replace("\r\n", "");
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap();
        assert_eq!(String::from_utf8(decoded).unwrap(), email.text);
        assert!(text.lines().all(|l| l.len() <= 78 && !l.starts_with('.')));
    }
}
