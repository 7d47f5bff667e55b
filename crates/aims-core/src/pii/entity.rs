//! The entity types the scanner reports, named as Microsoft Presidio names them where Presidio
//! has the entity, so findings line up with the ecosystem's tools and dashboards.

use std::fmt;
use std::str::FromStr;

use super::PiiError;

/// A kind of personal data or secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Entity {
    /// A payment card number: issuer prefix and length of a known network, and Luhn.
    CreditCard,
    /// An International Bank Account Number: per-country length and ISO 7064 mod 97.
    IbanCode,
    /// A US Social Security number that passes the SSA's allocation rules.
    UsSsn,
    /// A US Individual Taxpayer Identification Number (9xx-[50-65,70-88,90-92,94-99]-xxxx).
    UsItin,
    /// A UK National Health Service number (10 digits, mod 11 check digit).
    UkNhs,
    /// A UK National Insurance number (two prefix letters, six digits, suffix A-D).
    UkNino,
    /// An IPv4 or IPv6 address.
    IpAddress,
    /// An IEEE 802 MAC address.
    MacAddress,
    /// An e-mail address.
    EmailAddress,
    /// A phone number valid in its region (US, GB, DE, FR, IN, or any E.164 number).
    PhoneNumber,
    /// A crypto-currency wallet address (Bitcoin Base58Check or Bech32, Ethereum).
    Crypto,
    /// A URL or bare domain (never one that is part of an e-mail address).
    Url,
    /// An AWS access key id (`AKIA...`, `ASIA...`).
    AwsAccessKey,
    /// A GitHub token (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`).
    GithubToken,
    /// A Slack token (`xoxb-`, `xoxp-`, ...) or incoming webhook URL.
    SlackToken,
    /// A Stripe secret or restricted key (`sk_live_`, `rk_test_`, ...).
    StripeKey,
    /// An `sk-` style API key (OpenAI, Anthropic and compatible providers).
    ApiKey,
    /// A Google API key (`AIza` and 35 characters).
    GoogleApiKey,
    /// A JSON Web Token whose header decodes to a JSON object with an `alg`.
    Jwt,
    /// A PEM private key block.
    PrivateKey,
    /// A user name and password embedded in a URL (`scheme://user:pass@host`).
    UrlCredentials,
    /// A high-entropy value next to a keyword such as `password`, `secret` or `token`.
    GenericSecret,
    /// A word from the scanner configuration's deny list.
    DenyList,
}

impl Entity {
    /// Every entity, in declaration order.
    pub const ALL: [Entity; 23] = [
        Entity::CreditCard,
        Entity::IbanCode,
        Entity::UsSsn,
        Entity::UsItin,
        Entity::UkNhs,
        Entity::UkNino,
        Entity::IpAddress,
        Entity::MacAddress,
        Entity::EmailAddress,
        Entity::PhoneNumber,
        Entity::Crypto,
        Entity::Url,
        Entity::AwsAccessKey,
        Entity::GithubToken,
        Entity::SlackToken,
        Entity::StripeKey,
        Entity::ApiKey,
        Entity::GoogleApiKey,
        Entity::Jwt,
        Entity::PrivateKey,
        Entity::UrlCredentials,
        Entity::GenericSecret,
        Entity::DenyList,
    ];

    /// The upper-case name (Presidio's where Presidio has the entity).
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::CreditCard => "CREDIT_CARD",
            Entity::IbanCode => "IBAN_CODE",
            Entity::UsSsn => "US_SSN",
            Entity::UsItin => "US_ITIN",
            Entity::UkNhs => "UK_NHS",
            Entity::UkNino => "UK_NINO",
            Entity::IpAddress => "IP_ADDRESS",
            Entity::MacAddress => "MAC_ADDRESS",
            Entity::EmailAddress => "EMAIL_ADDRESS",
            Entity::PhoneNumber => "PHONE_NUMBER",
            Entity::Crypto => "CRYPTO",
            Entity::Url => "URL",
            Entity::AwsAccessKey => "AWS_ACCESS_KEY",
            Entity::GithubToken => "GITHUB_TOKEN",
            Entity::SlackToken => "SLACK_TOKEN",
            Entity::StripeKey => "STRIPE_KEY",
            Entity::ApiKey => "API_KEY",
            Entity::GoogleApiKey => "GOOGLE_API_KEY",
            Entity::Jwt => "JWT",
            Entity::PrivateKey => "PRIVATE_KEY",
            Entity::UrlCredentials => "URL_CREDENTIALS",
            Entity::GenericSecret => "GENERIC_SECRET",
            Entity::DenyList => "DENY_LIST",
        }
    }

    /// Whether the entity is a secret (credential or key) rather than personal data.
    pub fn is_secret(self) -> bool {
        matches!(
            self,
            Entity::AwsAccessKey
                | Entity::GithubToken
                | Entity::SlackToken
                | Entity::StripeKey
                | Entity::ApiKey
                | Entity::GoogleApiKey
                | Entity::Jwt
                | Entity::PrivateKey
                | Entity::UrlCredentials
                | Entity::GenericSecret
        )
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Entity {
    type Err = PiiError;

    /// Parses exactly the names of [`Entity::as_str`], so a typo in a policy fails loudly.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Entity::ALL
            .into_iter()
            .find(|entity| entity.as_str() == name)
            .ok_or_else(|| PiiError::UnknownEntity(name.to_string()))
    }
}

impl serde::Serialize for Entity {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Entity {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_fail() {
        for entity in Entity::ALL {
            assert_eq!(entity.as_str().parse::<Entity>().unwrap(), entity);
        }
        assert_eq!(
            "EMAIL_ADDRESS".parse::<Entity>().unwrap(),
            Entity::EmailAddress
        );
        let err = "EMAIL".parse::<Entity>().unwrap_err();
        assert!(err.to_string().contains("EMAIL"), "{err}");
        assert!("email_address".parse::<Entity>().is_err());
    }
}
