//! The Markdown of announcements: a safe subset rendered to HTML. Raw HTML is shown as the
//! text it is, links go only to http, https and mailto, and images are left to the
//! update's media, so nothing an author types runs or loads in a reader's page.

use pulldown_cmark::{Event, LinkType, Parser, Tag, TagEnd, html};

/// Whether a link target may be followed: http, https or mailto (or an e-mail autolink).
fn allowed_link(kind: LinkType, dest: &str) -> bool {
    if kind == LinkType::Email {
        return true;
    }
    let dest = dest.trim_start().to_ascii_lowercase();
    ["http://", "https://", "mailto:"]
        .iter()
        .any(|scheme| dest.starts_with(scheme))
}

/// `content` as HTML: paragraphs, emphasis, strong, lists, headings, quotes, code and
/// links; raw HTML becomes escaped text, other links and images keep only their text.
pub fn to_html(content: &str) -> String {
    // For each open link or image: whether its tags are kept.
    let mut open: Vec<bool> = Vec::new();
    let events = Parser::new(content).filter_map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Some(Event::Text(raw)),
        Event::Start(Tag::Link {
            link_type,
            ref dest_url,
            ..
        }) => {
            let keep = allowed_link(link_type, dest_url);
            open.push(keep);
            keep.then_some(event)
        }
        Event::Start(Tag::Image { .. }) => {
            open.push(false);
            None
        }
        Event::End(TagEnd::Link | TagEnd::Image) => open.pop().unwrap_or(false).then_some(event),
        other => Some(other),
    });
    let mut out = String::with_capacity(content.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

/// The words of `content` without its Markdown, cut to about `max` characters: the line
/// a list or a notification shows.
pub fn excerpt(content: &str, max: usize) -> String {
    let mut text = String::new();
    for event in Parser::new(content) {
        match event {
            Event::Text(t) | Event::Code(t) | Event::Html(t) | Event::InlineHtml(t) => {
                text.push_str(&t)
            }
            Event::SoftBreak
            | Event::HardBreak
            | Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::Item
                | TagEnd::CodeBlock
                | TagEnd::BlockQuote(_),
            ) => text.push(' '),
            _ => {}
        }
        if text.len() > max * 4 {
            break;
        }
    }
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", text[..cut].trim_end()),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_subset() {
        let html = to_html("# Shift change\n\n*Note* **well**:\n\n- one\n- two\n\n`code`");
        assert!(html.contains("<h1>Shift change</h1>"), "{html}");
        assert!(
            html.contains("<em>Note</em> <strong>well</strong>"),
            "{html}"
        );
        assert!(html.contains("<li>one</li>"), "{html}");
        assert!(html.contains("<code>code</code>"), "{html}");
    }

    #[test]
    fn html_and_script_are_inert() {
        let html = to_html("Hi <script>alert(1)</script>\n\n<div onclick=\"x()\">raw</div>\n");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<div"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(html.contains("&lt;div onclick="), "{html}");
    }

    #[test]
    fn only_safe_links_and_no_images() {
        let html = to_html(
            "[ok](https://example.com) [mail](mailto:a@b.co) [bad](javascript:alert(1)) \
             [rel](/admin) ![img](https://example.com/x.png)",
        );
        assert!(
            html.contains("<a href=\"https://example.com\">ok</a>"),
            "{html}"
        );
        assert!(
            html.contains("<a href=\"mailto:a@b.co\">mail</a>"),
            "{html}"
        );
        assert!(!html.contains("javascript"), "{html}");
        assert!(!html.contains("/admin"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("bad") && html.contains("img"), "{html}");
    }

    #[test]
    fn excerpts_are_plain_and_short() {
        assert_eq!(excerpt("**Bold** and *soft*ly", 100), "Bold and softly");
        assert_eq!(excerpt("# Title\n\n- one\n- two", 100), "Title one two");
        assert_eq!(excerpt("abcdefghij", 4), "abcd…");
    }
}
