//! Form validation for every variable type, good and bad input, as the form screen shows it
//! (the reason under the field) and as `core::vars` checks it.

use std::collections::BTreeSet;

use fieldbook::core::runbook::load_str;
use fieldbook::core::vars::VarType;
use fieldbook::ui::model::Model;
use fieldbook::ui::update::form::field_error;

/// One type's cases: good values, and bad values with a word the message must contain.
type Cases = (
    VarType,
    Vec<&'static str>,
    Vec<(&'static str, &'static str)>,
);

fn table() -> Vec<Cases> {
    vec![
        (
            VarType::Ip,
            vec!["192.168.1.10", "10.0.0.1", "fe80::1", "2001:db8::5"],
            vec![
                // Never a router's (or any machine's) address on a LAN.
                ("0.0.0.0", "unspecified"),
                ("255.255.255.255", "broadcast"),
                ("224.0.0.1", "multicast"),
                ("ff02::1", "multicast"),
                ("127.0.0.1", "loopback"),
                ("::1", "loopback"),
                ("::", "unspecified"),
                ("192.168.1", "IPv4 or IPv6"),
                ("192.168.1.256", "IPv4 or IPv6"),
                ("10.0.0.1/24", "IPv4 or IPv6"),
                ("gateway", "IPv4 or IPv6"),
            ],
        ),
        (
            VarType::Cidr,
            vec!["192.168.1.0/24", "10.0.0.0/8", "0.0.0.0/0", "2001:db8::/32"],
            vec![
                ("192.168.1.0", "address/prefix"),
                ("10.0.0.0/33", "address/prefix"),
                ("10.0.0.0/8/8", "address/prefix"),
            ],
        ),
        (
            VarType::Netmask,
            vec!["255.255.255.0", "255.255.255.252", "255.0.0.0", "0.0.0.0"],
            vec![
                ("255.255.0.255", "contiguous"),
                ("255.0.255.0", "contiguous"),
                ("0.255.255.255", "contiguous"),
                ("24", "netmask"),
                ("255.255.255.256", "netmask"),
            ],
        ),
        (
            VarType::Mac,
            vec!["00:16:3e:12:34:56", "00:16:3E:AB:CD:EF"],
            vec![
                ("00:16:3e:", "MAC"),
                ("00-16-3e-12-34-56", "MAC"),
                ("00:16:3e:12:34:56:78", "MAC"),
                ("00:16:3e:12:34:5g", "MAC"),
            ],
        ),
        (
            VarType::Hostname,
            vec!["xenbr0", "router-1.example.net", "a"],
            vec![
                ("-bad", "host name"),
                ("a_b", "host name"),
                ("a..b", "host name"),
            ],
        ),
        (
            VarType::Port,
            vec!["161", "1", "65535"],
            vec![
                ("0", "port"),
                ("65536", "port"),
                ("-1", "port"),
                ("snmp", "port"),
            ],
        ),
        (
            VarType::Path,
            vec!["/etc/xen/router.cfg", "/etc/portage/make.conf"],
            vec![],
        ),
        (VarType::Text, vec!["anything at all", "q?"], vec![]),
        (VarType::Secret, vec!["s3cret"], vec![]),
    ]
}

#[test]
fn each_type_accepts_good_and_explains_bad_input() {
    for (ty, good, bad) in table() {
        for g in good {
            assert_eq!(
                ty.validate(g, &[]),
                Ok(()),
                "{} should accept {g:?}",
                ty.name()
            );
        }
        for (b, word) in bad {
            let e = ty.validate(b, &[]).expect_err(b);
            assert!(e.contains(word), "{}: {b:?} gave {e:?}", ty.name());
        }
        // Control characters are refused by every type (a field is one line).
        assert!(ty.validate("a\nb", &[]).is_err(), "{}", ty.name());
    }
    let choices = vec!["on".to_string(), "off".to_string()];
    assert!(VarType::Choice.validate("off", &choices).is_ok());
    assert!(
        VarType::Choice
            .validate("maybe", &choices)
            .unwrap_err()
            .contains("on, off")
    );
}

#[test]
fn the_form_shows_the_reason_under_each_field() {
    let mut src = String::from("id = \"v\"\ntitle = \"V\"\n");
    let types = [
        "ip", "cidr", "netmask", "mac", "hostname", "port", "path", "choice", "text", "secret",
    ];
    for t in types {
        src.push_str(&format!("[[variable]]\nname = \"f_{t}\"\ntype = \"{t}\"\n"));
        if t == "choice" {
            src.push_str("choices = [\"yes\", \"no\"]\n");
        }
    }
    src.push_str("[[section]]\nid = \"s\"\ntitle = \"S\"\n[[section.step]]\nid = \"f\"\ntitle = \"F\"\nkind = \"form\"\nwhy = \"w\"\nfields = [");
    src.push_str(
        &types
            .iter()
            .map(|t| format!("\"f_{t}\""))
            .collect::<Vec<_>>()
            .join(", "),
    );
    src.push_str("]\n");
    let rb = load_str("v.toml", &src).unwrap();
    let m = Model::new(vec![rb], BTreeSet::new(), Vec::new());
    for t in types {
        let name = format!("f_{t}");
        assert_eq!(
            field_error(&m, "v", &name, "").as_deref(),
            Some("required"),
            "{t}: an empty field is required"
        );
    }
    assert!(
        field_error(&m, "v", "f_netmask", "255.255.0.255")
            .unwrap()
            .contains("contiguous")
    );
    assert!(
        field_error(&m, "v", "f_mac", "00:16:3e")
            .unwrap()
            .contains("00:16:3e")
    );
    assert_eq!(field_error(&m, "v", "f_choice", "yes"), None);
    assert!(field_error(&m, "v", "f_choice", "perhaps").is_some());
    assert_eq!(field_error(&m, "v", "f_ip", "10.0.0.1"), None);
}
