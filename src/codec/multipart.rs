//! `multipart/form-data` bodies: parsing a buffered body with `multer`, and writing parts
//! so that they read back the same.

use bytes::Bytes;

use super::CodecError;

/// One part of a `multipart/form-data` body.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub data: Bytes,
}

/// Parses a buffered `multipart/form-data` body. `content_type` is the
/// request's Content-Type header, which must carry the boundary.
pub async fn parse_multipart(content_type: &str, body: Bytes) -> Result<Vec<Part>, CodecError> {
    use http_body_util::BodyExt as _;
    let boundary = multer::parse_boundary(content_type)
        .map_err(|e| CodecError::new("multipart", e.to_string(), "Content-Type header"))?;
    let stream = http_body_util::Full::new(body).into_data_stream();
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut parts = Vec::new();
    loop {
        let location = format!("part {}", parts.len() + 1);
        let merr = |e: multer::Error| CodecError::new("multipart", e.to_string(), location.clone());
        let Some(field) = multipart.next_field().await.map_err(merr)? else {
            break;
        };
        let name = field
            .name()
            .map(str::to_owned)
            .ok_or_else(|| CodecError::new("multipart", "part has no name", location.clone()))?;
        let filename = field.file_name().map(str::to_owned);
        let content_type = field.content_type().map(|m| m.to_string());
        let data = field.bytes().await.map_err(merr)?;
        parts.push(Part {
            name,
            filename,
            content_type,
            data,
        });
    }
    Ok(parts)
}

/// Writes parts as a `multipart/form-data` body with `boundary` (which must not occur in
/// any part's data). Names and file names are written in double quotes, as browsers do,
/// with `"` escaped as `\"` (what `parse_multipart` reads back). A value holding `\` is
/// written unquoted, since the parser would take `\"` at its end for an escaped quote; one
/// that also holds a space, `;`, `"` or a control character cannot be written so that it
/// reads back, and is refused.
pub fn write_multipart(parts: &[Part], boundary: &str) -> Result<Vec<u8>, CodecError> {
    let value = |out: &mut Vec<u8>, v: &str, at: usize| -> Result<(), CodecError> {
        if !v.contains('\\') {
            out.push(b'"');
            out.extend_from_slice(v.replace('"', "\\\"").as_bytes());
            out.push(b'"');
            return Ok(());
        }
        if v.bytes()
            .any(|b| b == b';' || b == b'"' || b.is_ascii_whitespace() || b.is_ascii_control())
        {
            return Err(CodecError::new(
                "multipart",
                "a name with `\\` and a space, `;`, `\"` or a control character cannot be written",
                format!("part {}", at + 1),
            ));
        }
        out.extend_from_slice(v.as_bytes());
        Ok(())
    };
    let mut out = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        out.extend_from_slice(b"--");
        out.extend_from_slice(boundary.as_bytes());
        out.extend_from_slice(b"\r\nContent-Disposition: form-data; name=");
        value(&mut out, &p.name, i)?;
        if let Some(f) = &p.filename {
            out.extend_from_slice(b"; filename=");
            value(&mut out, f, i)?;
        }
        out.extend_from_slice(b"\r\n");
        if let Some(ct) = &p.content_type {
            out.extend_from_slice(b"Content-Type: ");
            out.extend_from_slice(ct.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&p.data);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"--");
    out.extend_from_slice(boundary.as_bytes());
    out.extend_from_slice(b"--\r\n");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CT: &str = "multipart/form-data; boundary=XyZ";

    #[tokio::test]
    async fn multipart_two_parts() {
        let body = "--XyZ\r\n\
            Content-Disposition: form-data; name=\"comment\"\r\n\r\n\
            hello\r\n\
            --XyZ\r\n\
            Content-Disposition: form-data; name=\"file\"; filename=\"routes.csv\"\r\n\
            Content-Type: text/csv\r\n\r\n\
            a,b\n1,2\n\r\n\
            --XyZ--\r\n";
        let parts = parse_multipart(CT, Bytes::from(body)).await.unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "comment");
        assert_eq!(parts[0].filename, None);
        assert_eq!(parts[0].content_type, None);
        assert_eq!(&parts[0].data[..], b"hello");
        assert_eq!(parts[1].filename.as_deref(), Some("routes.csv"));
        assert_eq!(parts[1].content_type.as_deref(), Some("text/csv"));
        assert_eq!(&parts[1].data[..], b"a,b\n1,2\n");
    }

    #[tokio::test]
    async fn multipart_written_parts_read_back() {
        let part = |name: &str, filename: Option<&str>| Part {
            name: name.into(),
            filename: filename.map(str::to_string),
            content_type: Some("text/csv".into()),
            data: Bytes::from_static(b"a,b\r\n1,2\r\n"),
        };
        let parts = vec![
            part("file", Some("routes.csv")),
            part("say \"hi\"", Some("a\"b.txt")),
            part("back\\slash\\", Some("C:\\dir\\f.txt")),
        ];
        let body = write_multipart(&parts, "XyZ").unwrap();
        assert_eq!(parse_multipart(CT, body.into()).await.unwrap(), parts);
        let e = write_multipart(&[part("a\\ b", None)], "XyZ").unwrap_err();
        assert_eq!(e.location, "part 1");
    }

    #[tokio::test]
    async fn multipart_without_boundary_is_rejected() {
        let e = parse_multipart("multipart/form-data", Bytes::from_static(b"--x--\r\n"))
            .await
            .unwrap_err();
        assert_eq!(
            (e.format, e.location.as_str()),
            ("multipart", "Content-Type header")
        );
        assert!(parse_multipart("application/json", Bytes::new())
            .await
            .is_err());
    }

    #[tokio::test]
    async fn multipart_truncated_or_malformed_is_rejected() {
        let truncated = "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nhel";
        let e = parse_multipart(CT, Bytes::from(truncated))
            .await
            .unwrap_err();
        assert_eq!(e.location, "part 1");
        let no_name = "--XyZ\r\nContent-Disposition: form-data\r\n\r\nx\r\n--XyZ--\r\n";
        let e = parse_multipart(CT, Bytes::from(no_name)).await.unwrap_err();
        assert!(e.message.contains("no name"), "{e}");
        assert!(parse_multipart(CT, Bytes::new()).await.is_err());
    }
}
