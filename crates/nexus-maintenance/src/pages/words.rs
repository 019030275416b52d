//! Codes as people say them: every enum a maintenance page shows, in words.

/// An asset's status.
pub fn status_word(status: &str) -> &'static str {
    match status {
        "operational" => "Operational",
        "maintenance" => "Under maintenance",
        "down" => "Down",
        "retired" => "Retired",
        _ => "Unknown",
    }
}

/// A work order's status.
pub fn wo_status(status: &str) -> &'static str {
    match status {
        "open" => "Open",
        "in_progress" => "In progress",
        "on_hold" => "On hold",
        "completed" => "Completed",
        "cancelled" => "Cancelled",
        _ => "Unknown",
    }
}

/// A work order's priority.
pub fn priority_word(priority: &str) -> &'static str {
    match priority {
        "low" => "Low",
        "medium" => "Medium",
        "high" => "High",
        "critical" => "Critical",
        _ => "Unknown",
    }
}

/// A work order's type.
pub fn type_word(kind: &str) -> &'static str {
    match kind {
        "corrective" => "Corrective",
        "preventive" => "Preventive",
        "inspection" => "Inspection",
        "emergency" => "Emergency",
        "predictive" => "Predictive",
        "safety" => "Safety",
        "other" => "Other",
        _ => "Unknown",
    }
}

/// A checklist step's kind.
pub fn step_kind_word(kind: &str) -> &'static str {
    match kind {
        "checkbox" => "Tick when done",
        "number" => "Reading (a number)",
        "text" => "Written answer",
        "pass_fail" => "Pass or fail",
        _ => "Unknown",
    }
}

/// (code, word) pairs for a select.
pub fn options(codes: &[&str], word: fn(&str) -> &'static str) -> Vec<(String, String)> {
    codes
        .iter()
        .map(|c| (c.to_string(), word(c).to_string()))
        .collect()
}
