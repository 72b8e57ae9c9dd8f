//! A visit's channel (`visit:channel`), as Plausible names channels: the
//! rules of Google Analytics 4's default channel group, in Plausible's
//! order (Cross-network, Paid Shopping, Paid Search, … Referral, Direct),
//! over the source, UTM medium, campaign and source, and the click id.
//!
//! A source's category (search, social, video, shopping, e-mail, AI
//! assistant) comes from Matomo's lists of search engines and social
//! networks, whose names this edge's sources already carry
//! (`known_data`), and from the short lists below of GA4's video and
//! shopping sources and the sources Plausible adds (AI assistants, chats);
//! these are checked first, so YouTube is video, not social.

use super::known_data::{SEARCH_ENGINE_NAMES, SOCIAL_NETWORK_NAMES};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Category {
    Search,
    Social,
    Video,
    Shopping,
    Email,
    AiAssistant,
    None,
}

/// Sources (lowercase) of a category GA4 or Plausible gives them, checked
/// before Matomo's lists: by name (a tagged `utm_source`, a known referrer)
/// and by host (a referrer no list names is its host, without `www.`).
const CATEGORIES: &[(&str, Category)] = &[
    ("chat.deepseek.com", Category::AiAssistant),
    ("chat.openai.com", Category::AiAssistant),
    ("claude.ai", Category::AiAssistant),
    ("copilot.microsoft.com", Category::AiAssistant),
    ("gemini.google.com", Category::AiAssistant),
    ("perplexity.ai", Category::AiAssistant),
    ("phind.com", Category::AiAssistant),
    ("mail.google.com", Category::Email),
    ("outlook.live.com", Category::Email),
    ("outlook.office.com", Category::Email),
    ("alibaba.com", Category::Shopping),
    ("amazon.co.uk", Category::Shopping),
    ("amazon.com", Category::Shopping),
    ("amazon.de", Category::Shopping),
    ("ebay.com", Category::Shopping),
    ("ebay.de", Category::Shopping),
    ("etsy.com", Category::Shopping),
    ("shopify.com", Category::Shopping),
    ("walmart.com", Category::Shopping),
    ("dailymotion.com", Category::Video),
    ("netflix.com", Category::Video),
    ("twitch.tv", Category::Video),
    ("vimeo.com", Category::Video),
    ("youtube.com", Category::Video),
    ("m.youtube.com", Category::Video),
    ("fb", Category::Social),
    ("ig", Category::Social),
    ("chatgpt", Category::AiAssistant),
    ("chatgpt.com", Category::AiAssistant),
    ("claude", Category::AiAssistant),
    ("copilot", Category::AiAssistant),
    ("deepseek", Category::AiAssistant),
    ("google gemini", Category::AiAssistant),
    ("grok", Category::AiAssistant),
    ("perplexity", Category::AiAssistant),
    ("phind", Category::AiAssistant),
    ("gmail", Category::Email),
    ("alibaba", Category::Shopping),
    ("amazon", Category::Shopping),
    ("ebay", Category::Shopping),
    ("etsy", Category::Shopping),
    ("google shopping", Category::Shopping),
    ("igshopping", Category::Shopping),
    ("mercadolibre", Category::Shopping),
    ("shopify", Category::Shopping),
    ("shopzilla", Category::Shopping),
    ("stripe", Category::Shopping),
    ("temu.com", Category::Shopping),
    ("walmart", Category::Shopping),
    ("crackle", Category::Video),
    ("curiositystream", Category::Video),
    ("dailymotion", Category::Video),
    ("disneyplus", Category::Video),
    ("hulu", Category::Video),
    ("iqiyi", Category::Video),
    ("netflix", Category::Video),
    ("ted", Category::Video),
    ("twitch", Category::Video),
    ("vimeo", Category::Video),
    ("wistia", Category::Video),
    ("youku", Category::Video),
    ("youtube", Category::Video),
    ("brave", Category::Search),
    ("ecosia", Category::Search),
    ("sogou", Category::Search),
    ("yahoo!", Category::Search),
    ("bluesky", Category::Social),
    ("discord", Category::Social),
    ("github", Category::Social),
    ("hacker news", Category::Social),
    ("mastodon", Category::Social),
    ("microsoft teams", Category::Social),
    ("producthunt", Category::Social),
    ("slack", Category::Social),
    ("telegram", Category::Social),
    ("threads", Category::Social),
    ("vkontakte", Category::Social),
    ("x (twitter)", Category::Social),
];

fn category(source: &str) -> Category {
    if let Some((_, category)) = CATEGORIES.iter().find(|(name, _)| *name == source) {
        return *category;
    }
    // a network on both lists (Facebook, Myspace: Matomo knows their
    // search pages) is social, as GA4 has it
    if SOCIAL_NETWORK_NAMES.binary_search(&source).is_ok() {
        Category::Social
    } else if SEARCH_ENGINE_NAMES.binary_search(&source).is_ok() {
        Category::Search
    } else {
        Category::None
    }
}

/// The channel names, in the order the rules try them.
pub const CHANNELS: [&str; 20] = [
    "Cross-network",
    "Paid Shopping",
    "Paid Search",
    "Paid Social",
    "Paid Video",
    "Display",
    "Paid Other",
    "Organic Shopping",
    "Organic Social",
    "Organic Video",
    "AI Assistants",
    "Organic Search",
    "Email",
    "Affiliates",
    "Audio",
    "SMS",
    "Mobile Push Notifications",
    "Referral",
    "Direct",
    // kept for rows stored before channels existed: they have none
    "",
];

/// The channel of a visit from its source and tags (any case).
pub fn channel(
    source: &str,
    utm_medium: &str,
    utm_campaign: &str,
    utm_source: &str,
    click_id_param: &str,
) -> &'static str {
    let (source, medium, campaign, utm_source) = (
        source.to_lowercase(),
        utm_medium.to_lowercase(),
        utm_campaign.to_lowercase(),
        utm_source.to_lowercase(),
    );
    let category = category(&source);
    let paid_medium = paid_medium(&medium);
    let paid_source = paid_source(&utm_source);
    let shopping_campaign = shopping_campaign(&campaign);
    let is = |c: Category| category == c;
    let email_tags = ["email", "e-mail", "e_mail", "e mail", "newsletter"];
    if campaign.contains("cross-network") {
        "Cross-network"
    } else if (is(Category::Shopping) || shopping_campaign) && paid_medium {
        "Paid Shopping"
    } else if (is(Category::Search) && (paid_medium || paid_source))
        || (source == "google" && click_id_param == "gclid")
        || (source == "bing" && click_id_param == "msclkid")
    {
        "Paid Search"
    } else if is(Category::Social) && (paid_medium || paid_source) {
        "Paid Social"
    } else if is(Category::Video) && (paid_medium || paid_source) {
        "Paid Video"
    } else if ["display", "banner", "expandable", "interstitial", "cpm"].contains(&medium.as_str())
    {
        "Display"
    } else if paid_medium {
        "Paid Other"
    } else if is(Category::Shopping) || shopping_campaign {
        "Organic Shopping"
    } else if is(Category::Social)
        || [
            "social",
            "social-network",
            "social-media",
            "sm",
            "social network",
            "social media",
        ]
        .contains(&medium.as_str())
    {
        "Organic Social"
    } else if is(Category::Video) || medium.contains("video") {
        "Organic Video"
    } else if is(Category::AiAssistant) {
        "AI Assistants"
    } else if is(Category::Search) {
        "Organic Search"
    } else if is(Category::Email)
        || email_tags
            .iter()
            .any(|tag| utm_source.contains(tag) || medium.contains(tag))
    {
        "Email"
    } else if medium == "affiliate" {
        "Affiliates"
    } else if medium == "audio" {
        "Audio"
    } else if utm_source == "sms" || medium == "sms" {
        "SMS"
    } else if medium.ends_with("push")
        || medium.contains("mobile")
        || medium.contains("notification")
        || source == "firebase"
    {
        "Mobile Push Notifications"
    } else if ["referral", "app", "link"].contains(&medium.as_str()) || !source.is_empty() {
        "Referral"
    } else {
        "Direct"
    }
}

/// GA4's paid mediums: `^(.*cp.*|ppc|retargeting|paid.*)$`.
fn paid_medium(medium: &str) -> bool {
    medium.contains("cp")
        || medium == "ppc"
        || medium == "retargeting"
        || medium.starts_with("paid")
}

/// UTM sources that name an ad network (`adwords`, `fb-ads`, `yt_ad`):
/// paid whatever the medium says, as Plausible counts them.
fn paid_source(utm_source: &str) -> bool {
    utm_source == "adwords"
        || utm_source == "ads"
        || ["-ads", "_ads", " ads", "-ad", "_ad", " ad"]
            .iter()
            .any(|suffix| utm_source.len() > suffix.len() && utm_source.ends_with(suffix))
}

/// GA4's shopping campaigns: `^(.*(([^a-df-z]|^)shop|shopping).*)$`.
fn shopping_campaign(campaign: &str) -> bool {
    if campaign.contains("shopping") {
        return true;
    }
    campaign.match_indices("shop").any(|(i, _)| {
        // "shop" at the start, or after a character outside a-d and f-z
        // (so "eshop" counts, "workshop" does not)
        campaign[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_ascii_lowercase() && c != 'e'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(
        source: &str,
        medium: &str,
        campaign: &str,
        utm_source: &str,
        click: &str,
    ) -> &'static str {
        channel(source, medium, campaign, utm_source, click)
    }

    #[test]
    fn each_rule_in_its_order() {
        for (case, expected) in [
            (
                ("Google", "cpc", "summer cross-network", "google", ""),
                "Cross-network",
            ),
            (("Amazon", "cpc", "", "amazon", ""), "Paid Shopping"),
            (
                ("newsletter", "ppc", "spring-shopping", "", ""),
                "Paid Shopping",
            ),
            (("Google", "cpc", "", "google", ""), "Paid Search"),
            (("Google", "", "", "", "gclid"), "Paid Search"),
            (("Bing", "", "", "", "msclkid"), "Paid Search"),
            (("DuckDuckGo", "", "", "adwords", ""), "Paid Search"),
            (
                ("Facebook", "paid-social", "", "facebook", ""),
                "Paid Social",
            ),
            (("LinkedIn", "", "", "linkedin_ads", ""), "Paid Social"),
            (("YouTube", "cpv", "", "youtube", ""), "Paid Video"),
            (("partner.example", "banner", "", "partner", ""), "Display"),
            (("partner.example", "paid", "", "partner", ""), "Paid Other"),
            (("eBay", "", "", "", ""), "Organic Shopping"),
            (
                ("blog.example", "", "eshop-launch", "", ""),
                "Organic Shopping",
            ),
            (("GitHub", "", "", "", ""), "Organic Social"),
            (("Hacker News", "", "", "", ""), "Organic Social"),
            (("slack", "", "", "slack", ""), "Organic Social"),
            // the demo's and tests' generated sources (scripts/lib/events.mjs)
            (
                ("slack", "chat", "weekly-digest", "slack", ""),
                "Organic Social",
            ),
            (("GitHub", "", "", "", ""), "Organic Social"),
            (("intranet.example", "social", "", "", ""), "Organic Social"),
            (("YouTube", "", "", "", ""), "Organic Video"),
            (
                ("intranet.example", "video-embed", "", "", ""),
                "Organic Video",
            ),
            (("ChatGPT", "", "", "", ""), "AI Assistants"),
            (("Google", "", "", "", ""), "Organic Search"),
            (("Google", "organic", "", "", ""), "Organic Search"),
            (("Ecosia", "", "", "", ""), "Organic Search"),
            (("Gmail", "", "", "", ""), "Email"),
            (("weekly", "newsletter", "", "weekly", ""), "Email"),
            (("portal-digest", "", "", "portal-e-mail", ""), "Email"),
            (("partner.example", "affiliate", "", "", ""), "Affiliates"),
            (("podcast.example", "audio", "", "", ""), "Audio"),
            (("sms", "", "", "sms", ""), "SMS"),
            (
                ("app.example", "web-push", "", "", ""),
                "Mobile Push Notifications",
            ),
            (
                ("firebase", "", "", "firebase", ""),
                "Mobile Push Notifications",
            ),
            (("confluence.fawkes.idp", "", "", "", ""), "Referral"),
            (("", "referral", "", "", ""), "Referral"),
            (("", "", "", "", ""), "Direct"),
            // unnamed referrers are their hosts
            (("perplexity.ai", "", "", "", ""), "AI Assistants"),
            (("amazon.com", "", "", "", ""), "Organic Shopping"),
            (("twitch.tv", "", "", "", ""), "Organic Video"),
            (("mail.google.com", "", "", "", ""), "Email"),
            (("fb", "cpc", "", "fb", ""), "Paid Social"),
            // a click id of another network is not Google's paid search
            (("Google", "", "", "", "fbclid"), "Organic Search"),
        ] {
            let (source, medium, campaign, utm_source, click) = case;
            assert_eq!(
                of(source, medium, campaign, utm_source, click),
                expected,
                "{case:?}"
            );
            assert!(CHANNELS.contains(&expected));
        }
    }

    #[test]
    fn shopping_campaigns_and_paid_sources_as_ga4_says() {
        assert!(shopping_campaign("shop-week"));
        assert!(shopping_campaign("summer_shop"));
        assert!(shopping_campaign("eshop"));
        assert!(!shopping_campaign("workshop"));
        assert!(shopping_campaign("window shopping"));
        assert!(paid_source("fb-ads") && paid_source("yt_ad") && paid_source("adwords"));
        assert!(!paid_source("downloads") && !paid_source("road") && !paid_source("-ad"));
    }

    #[test]
    fn the_name_lists_are_sorted_for_binary_search() {
        for list in [SEARCH_ENGINE_NAMES, SOCIAL_NETWORK_NAMES] {
            assert!(list.windows(2).all(|w| w[0] < w[1]));
            assert!(list.iter().all(|name| *name == name.to_lowercase()));
        }
    }
}
