//! A browser without JavaScript for the console's tests: real HTTP, one session cookie.

/// A browser without JavaScript over real HTTP: one session cookie, no redirects followed.
#[derive(Debug)]
pub struct Console {
    agent: ureq::Agent,
    base: String,
    cookies: Vec<(String, String)>,
}

impl Console {
    pub fn new(base: &str) -> Console {
        Console {
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .max_redirects(0)
                .build()
                .into(),
            base: base.to_string(),
            cookies: Vec::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep_cookies(&mut self, res: &ureq::http::Response<ureq::Body>) {
        for sc in res.headers().get_all("set-cookie") {
            let sc = sc.to_str().unwrap();
            let kv = sc.split(';').next().unwrap();
            let (k, v) = kv.split_once('=').unwrap();
            self.cookies.retain(|(name, _)| name != k);
            if !v.is_empty() {
                self.cookies.push((k.into(), v.into()));
            }
        }
    }

    pub fn get(&mut self, path: &str) -> (u16, String) {
        let (status, bytes) = self.get_bytes(path);
        (status, String::from_utf8(bytes).expect("a page in UTF-8"))
    }

    /// A GET whose answer is bytes (a download).
    pub fn get_bytes(&mut self, path: &str) -> (u16, Vec<u8>) {
        let mut res = self
            .agent
            .get(&format!("{}{path}", self.base))
            .header("cookie", &self.cookie_header())
            .call()
            .unwrap();
        self.keep_cookies(&res);
        let status = res.status().as_u16();
        (status, res.body_mut().read_to_vec().unwrap())
    }

    pub fn post(&mut self, path: &str, form: &[(&str, &str)]) -> u16 {
        self.post_page(path, form).0
    }

    /// A form post: the status and the page answered.
    pub fn post_page(&mut self, path: &str, form: &[(&str, &str)]) -> (u16, String) {
        let body: String = form
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let mut res = self
            .agent
            .post(&format!("{}{path}", self.base))
            .header("cookie", &self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .send(body)
            .unwrap();
        self.keep_cookies(&res);
        let status = res.status().as_u16();
        (status, res.body_mut().read_to_string().unwrap_or_default())
    }
}

pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The value of the first hidden input named `name` in a page.
pub fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let at = page.find(&marker).expect("the hidden field") + marker.len();
    page[at..at + page[at..].find('"').unwrap()].to_string()
}

impl Console {
    /// Signs in through the console's form; panics unless it lands on the console.
    pub fn sign_in(base: &str, username: &str, password: &str) -> Console {
        let mut c = Console::new(base);
        let (_, page) = c.get("/console/login");
        let token = hidden(&page, "login_token");
        let status = c.post(
            "/console/login",
            &[
                ("username", username),
                ("password", password),
                ("login_token", &token),
            ],
        );
        assert_eq!(status, 303, "signed in");
        c
    }
}
