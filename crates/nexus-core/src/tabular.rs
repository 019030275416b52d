//! CSV in and out, shared by every import and export: a `text/csv` body extractor, a
//! header-checked reader that reports bad rows by line, and the download response.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::{ApiError, ApiResult, FieldError};

/// Row errors reported at most, so a wholly wrong file still gets a readable answer.
pub const MAX_ROW_ERRORS: usize = 100;

/// A request body sent as `text/csv` (or `application/csv`); anything else is 415.
pub struct CsvBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for CsvBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let ct = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !ct.starts_with("text/csv") && !ct.starts_with("application/csv") {
            return Err(ApiError::UnsupportedMediaType(
                "send the file as text/csv".into(),
            ));
        }
        Bytes::from_request(req, state)
            .await
            .map(CsvBody)
            .map_err(|_| ApiError::BadRequest("the request body could not be read".into()))
    }
}

/// A parsed CSV file: lower-cased header names and the records with their line numbers.
pub struct CsvTable {
    columns: Vec<String>,
    pub rows: Vec<(usize, csv::StringRecord)>,
}

impl CsvTable {
    /// Reads `data`, refusing (422 on `columns`) unknown or missing columns, and (422 on
    /// `line N`) rows that cannot be read.
    pub fn parse(data: &[u8], known: &[&str], required: &[&str]) -> ApiResult<Self> {
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .flexible(false)
            .from_reader(data);
        let columns: Vec<String> = reader
            .headers()
            .map_err(|e| ApiError::invalid("file", format!("unreadable CSV header: {e}")))?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').to_ascii_lowercase())
            .collect();
        let mut errors = Vec::new();
        for c in &columns {
            if !known.contains(&c.as_str()) {
                errors.push(FieldError::new(
                    "columns",
                    format!("unknown column '{c}'; columns are {}", known.join(", ")),
                ));
            }
        }
        for r in required {
            if !columns.iter().any(|c| c == r) {
                errors.push(FieldError::new("columns", format!("missing column '{r}'")));
            }
        }
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        let mut rows = Vec::new();
        for (i, record) in reader.records().enumerate() {
            let line = i + 2;
            match record {
                Ok(r) => {
                    let bad = r
                        .iter()
                        .zip(&columns)
                        .find(|(cell, _)| crate::validate::forbidden_char(cell).is_some())
                        .and_then(|(cell, column)| {
                            crate::validate::check_chars(&format!("line {line}: {column}"), cell)
                                .err()
                        });
                    match bad {
                        Some(err) if errors.len() < MAX_ROW_ERRORS => {
                            errors.extend(err.field_errors())
                        }
                        Some(_) => break,
                        None => rows.push((line, r)),
                    }
                }
                Err(e) if errors.len() < MAX_ROW_ERRORS => errors.push(FieldError::new(
                    format!("line {line}"),
                    format!("unreadable row: {e}"),
                )),
                Err(_) => break,
            }
        }
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        Ok(Self { columns, rows })
    }

    /// The trimmed value of `column` in `record`; `None` when absent or empty.
    pub fn get<'a>(&self, record: &'a csv::StringRecord, column: &str) -> Option<&'a str> {
        let i = self.columns.iter().position(|c| c == column)?;
        record.get(i).filter(|v| !v.is_empty())
    }

    /// Whether the file has `column`, so an import can tell "absent" from "emptied".
    pub fn has(&self, column: &str) -> bool {
        self.columns.iter().any(|c| c == column)
    }
}

/// Prefixes each field error of a row's validation with its line: `line 7: health_score`.
pub fn row_errors(line: usize, err: ApiError) -> Vec<FieldError> {
    let fields = err.field_errors();
    if fields.is_empty() {
        return vec![FieldError::new(format!("line {line}"), err.to_string())];
    }
    fields
        .into_iter()
        .map(|e| FieldError::new(format!("line {line}: {}", e.field), e.message))
        .collect()
}

/// The answer to an import with bad rows: 422 with the errors in line order, at most
/// `MAX_ROW_ERRORS` of them.
pub fn rows_rejected(mut errors: Vec<FieldError>) -> ApiError {
    let line = |e: &FieldError| -> usize {
        let digits = e.field.trim_start_matches("line ");
        let end = digits
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(digits.len());
        digits[..end].parse().unwrap_or(0)
    };
    errors.sort_by_key(line);
    errors.truncate(MAX_ROW_ERRORS);
    ApiError::Validation(errors)
}

/// A cell as exported: text a spreadsheet would run as a formula (`=`, `+`, `-`, `@`,
/// tab or carriage return first) gets a leading `'`; numbers stay as they are.
pub fn safe_cell(cell: &str) -> std::borrow::Cow<'_, str> {
    let formula = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if formula && cell.parse::<f64>().is_err() {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// Writes rows as a CSV download named `name.csv`, every cell through [`safe_cell`].
pub fn csv_download(name: &str, head: &[&str], rows: Vec<Vec<String>>) -> ApiResult<Response> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(head).map_err(ApiError::internal)?;
    for r in rows {
        w.write_record(r.iter().map(|c| safe_cell(c).into_owned()))
            .map_err(ApiError::internal)?;
    }
    let body = w.into_inner().map_err(ApiError::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.csv\""),
            ),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_numbers_kept() {
        assert_eq!(safe_cell("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
        assert_eq!(safe_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(safe_cell("+HYPERLINK(x)"), "'+HYPERLINK(x)");
        assert_eq!(safe_cell("-12.5"), "-12.5");
        assert_eq!(safe_cell("Press 1"), "Press 1");
    }

    #[test]
    fn control_characters_in_cells_are_refused_by_line_and_column() {
        let err = CsvTable::parse(b"name,tag\nok,a\nb\x01ad,c\n", &["name", "tag"], &["name"])
            .err()
            .unwrap();
        assert_eq!(err.field_errors()[0].field, "line 3: name");
    }
}
