//! The countries the demo company sells in: names, cities, streets, phone and postal formats,
//! and the local currency, embedded so that generating a company needs no files.

use canopy_core::Currency;

/// One country's data for making up plausible people and prices.
pub(crate) struct Locale {
    /// ISO 3166-1 alpha-2.
    pub(crate) country: &'static str,
    pub(crate) currency: Currency,
    /// Minor units of the local currency worth 100 US cents.
    pub(crate) per_100_cents: i64,
    pub(crate) phone_code: &'static str,
    /// `9` is a random digit, `A` a random letter, anything else itself.
    pub(crate) postal: &'static str,
    /// "12 Main Street" (true) or "Hauptstraße 12" (false).
    pub(crate) number_first: bool,
    /// Mail domain of made-up addresses (reserved example domains only).
    pub(crate) domain: &'static str,
    pub(crate) first: &'static [&'static str],
    pub(crate) last: &'static [&'static str],
    pub(crate) cities: &'static [&'static str],
    pub(crate) streets: &'static [&'static str],
}

pub(crate) const LOCALES: &[Locale] = &[
    Locale {
        country: "US",
        currency: Currency::USD,
        per_100_cents: 100,
        phone_code: "+1",
        postal: "99999",
        number_first: true,
        domain: "example.com",
        first: &[
            "James", "Mary", "Robert", "Patricia", "Michael", "Jennifer", "David", "Linda",
            "Emily", "Daniel", "Ashley", "Chris",
        ],
        last: &[
            "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson",
            "Anderson", "Taylor", "Moore", "Clark",
        ],
        cities: &[
            "Austin",
            "Denver",
            "Phoenix",
            "Columbus",
            "Portland",
            "Nashville",
            "Raleigh",
            "Omaha",
        ],
        streets: &[
            "Main Street",
            "Oak Avenue",
            "Maple Drive",
            "Cedar Lane",
            "Park Road",
            "Elm Street",
        ],
    },
    Locale {
        country: "GB",
        currency: Currency::GBP,
        per_100_cents: 79,
        phone_code: "+44",
        postal: "AA9 9AA",
        number_first: true,
        domain: "example.co.uk",
        first: &[
            "Oliver", "Amelia", "Harry", "Isla", "George", "Ava", "Jack", "Sophie", "Thomas",
            "Grace", "William", "Chloe",
        ],
        last: &[
            "Smith", "Jones", "Taylor", "Evans", "Thomas", "Roberts", "Walker", "Wright", "Hughes",
            "Green", "Hall", "Wood",
        ],
        cities: &[
            "Leeds",
            "Bristol",
            "Manchester",
            "York",
            "Norwich",
            "Cardiff",
            "Brighton",
            "Exeter",
        ],
        streets: &[
            "High Street",
            "Station Road",
            "Church Lane",
            "Victoria Road",
            "Mill Lane",
            "Queen Street",
        ],
    },
    Locale {
        country: "DE",
        currency: Currency::EUR,
        per_100_cents: 92,
        phone_code: "+49",
        postal: "99999",
        number_first: false,
        domain: "example.de",
        first: &[
            "Lukas",
            "Anna",
            "Jonas",
            "Lea",
            "Felix",
            "Marie",
            "Maximilian",
            "Sophie",
            "Paul",
            "Zoë",
            "Jürgen",
            "Hannah",
        ],
        last: &[
            "Müller",
            "Schmidt",
            "Schneider",
            "Fischer",
            "Weber",
            "Meyer",
            "Wagner",
            "Becker",
            "Hoffmann",
            "Schäfer",
            "Koch",
            "Richter",
        ],
        cities: &[
            "Berlin", "Hamburg", "München", "Köln", "Leipzig", "Dresden", "Bremen", "Freiburg",
        ],
        streets: &[
            "Hauptstraße",
            "Schulstraße",
            "Gartenweg",
            "Bahnhofstraße",
            "Lindenallee",
            "Bergstraße",
        ],
    },
    Locale {
        country: "FR",
        currency: Currency::EUR,
        per_100_cents: 92,
        phone_code: "+33",
        postal: "99999",
        number_first: true,
        domain: "example.fr",
        first: &[
            "Gabriel", "Louise", "Léo", "Jade", "Hugo", "Emma", "Raphaël", "Chloé", "Arthur",
            "Inès", "Jules", "Camille",
        ],
        last: &[
            "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
            "Leroy", "Moreau", "Lefèvre", "Girard",
        ],
        cities: &[
            "Lyon",
            "Marseille",
            "Toulouse",
            "Nantes",
            "Lille",
            "Bordeaux",
            "Rennes",
            "Nice",
        ],
        streets: &[
            "rue de la Paix",
            "avenue Victor Hugo",
            "rue Pasteur",
            "boulevard Voltaire",
            "rue des Lilas",
            "place de la Mairie",
        ],
    },
    Locale {
        country: "ES",
        currency: Currency::EUR,
        per_100_cents: 92,
        phone_code: "+34",
        postal: "99999",
        number_first: false,
        domain: "example.es",
        first: &[
            "Hugo", "Lucía", "Martín", "Sofía", "Mateo", "María", "Pablo", "Martina", "Álvaro",
            "Paula", "Javier", "Elena",
        ],
        last: &[
            "García",
            "Rodríguez",
            "González",
            "Fernández",
            "López",
            "Martínez",
            "Sánchez",
            "Pérez",
            "Gómez",
            "Ruiz",
            "Díaz",
            "Moreno",
        ],
        cities: &[
            "Madrid", "Sevilla", "Valencia", "Bilbao", "Zaragoza", "Málaga", "Granada", "Murcia",
        ],
        streets: &[
            "Calle Mayor",
            "Calle del Sol",
            "Avenida de la Constitución",
            "Calle Real",
            "Paseo del Prado",
            "Calle Nueva",
        ],
    },
    Locale {
        country: "MX",
        currency: Currency::MXN,
        per_100_cents: 1_700,
        phone_code: "+52",
        postal: "99999",
        number_first: false,
        domain: "example.mx",
        first: &[
            "Santiago",
            "Valentina",
            "Sebastián",
            "Regina",
            "Diego",
            "Ximena",
            "Emiliano",
            "Camila",
            "Leonardo",
            "Renata",
            "José",
            "Guadalupe",
        ],
        last: &[
            "Hernández",
            "García",
            "Martínez",
            "López",
            "González",
            "Pérez",
            "Rodríguez",
            "Sánchez",
            "Ramírez",
            "Cruz",
            "Flores",
            "Torres",
        ],
        cities: &[
            "Guadalajara",
            "Monterrey",
            "Puebla",
            "Querétaro",
            "Mérida",
            "Oaxaca",
            "León",
            "Toluca",
        ],
        streets: &[
            "Avenida Juárez",
            "Calle Hidalgo",
            "Calle Morelos",
            "Avenida Reforma",
            "Calle Allende",
            "Calle Zaragoza",
        ],
    },
    Locale {
        country: "BR",
        currency: Currency::BRL,
        per_100_cents: 500,
        phone_code: "+55",
        postal: "99999-999",
        number_first: false,
        domain: "example.com.br",
        first: &[
            "Miguel",
            "Alice",
            "Arthur",
            "Helena",
            "Heitor",
            "Laura",
            "Bernardo",
            "Manuela",
            "Davi",
            "Valentina",
            "Lucas",
            "Júlia",
        ],
        last: &[
            "Silva",
            "Santos",
            "Oliveira",
            "Souza",
            "Rodrigues",
            "Ferreira",
            "Alves",
            "Pereira",
            "Lima",
            "Gomes",
            "Ribeiro",
            "Carvalho",
        ],
        cities: &[
            "São Paulo",
            "Curitiba",
            "Salvador",
            "Recife",
            "Fortaleza",
            "Campinas",
            "Belém",
            "Goiânia",
        ],
        streets: &[
            "Rua das Flores",
            "Avenida Brasil",
            "Rua São João",
            "Rua XV de Novembro",
            "Avenida Paulista",
            "Rua do Comércio",
        ],
    },
    Locale {
        country: "PL",
        currency: Currency::PLN,
        per_100_cents: 400,
        phone_code: "+48",
        postal: "99-999",
        number_first: false,
        domain: "example.pl",
        first: &[
            "Jakub",
            "Zuzanna",
            "Antoni",
            "Julia",
            "Jan",
            "Zofia",
            "Szymon",
            "Hanna",
            "Franciszek",
            "Maja",
            "Łukasz",
            "Małgorzata",
        ],
        last: &[
            "Nowak",
            "Kowalski",
            "Wiśniewski",
            "Wójcik",
            "Kowalczyk",
            "Kamiński",
            "Lewandowski",
            "Zieliński",
            "Szymański",
            "Woźniak",
            "Dąbrowski",
            "Kozłowski",
        ],
        cities: &[
            "Kraków", "Wrocław", "Gdańsk", "Poznań", "Łódź", "Lublin", "Katowice", "Szczecin",
        ],
        streets: &[
            "ulica Długa",
            "ulica Polna",
            "ulica Leśna",
            "ulica Słoneczna",
            "ulica Krótka",
            "ulica Ogrodowa",
        ],
    },
    Locale {
        country: "JP",
        currency: Currency::JPY,
        per_100_cents: 150,
        phone_code: "+81",
        postal: "999-9999",
        number_first: true,
        domain: "example.jp",
        first: &[
            "Haruto", "Yui", "Sota", "Hina", "Yuto", "Sakura", "Ren", "Aoi", "Riku", "Mio",
            "Kaito", "Yuna",
        ],
        last: &[
            "Sato",
            "Suzuki",
            "Takahashi",
            "Tanaka",
            "Watanabe",
            "Ito",
            "Yamamoto",
            "Nakamura",
            "Kobayashi",
            "Kato",
            "Yoshida",
            "Yamada",
        ],
        cities: &[
            "Osaka",
            "Nagoya",
            "Sapporo",
            "Fukuoka",
            "Kobe",
            "Kyoto",
            "Sendai",
            "Hiroshima",
        ],
        streets: &[
            "Chuo-dori",
            "Sakura-machi",
            "Midori-cho",
            "Honcho",
            "Asahi-dori",
            "Minami-machi",
        ],
    },
    Locale {
        country: "PH",
        currency: Currency::USD,
        per_100_cents: 100,
        phone_code: "+63",
        postal: "9999",
        number_first: true,
        domain: "example.ph",
        first: &[
            "Jose",
            "Maria",
            "Juan",
            "Angel",
            "Mark",
            "Princess",
            "John Paul",
            "Kristine",
            "Carlo",
            "Andrea",
            "Miguel",
            "Jasmine",
        ],
        last: &[
            "Santos", "Reyes", "Cruz", "Bautista", "Ocampo", "Garcia", "Mendoza", "Torres",
            "Tomas", "Andrada", "Castillo", "Flores",
        ],
        cities: &[
            "Quezon City",
            "Cebu City",
            "Davao City",
            "Makati",
            "Pasig",
            "Iloilo City",
            "Baguio",
            "Taguig",
        ],
        streets: &[
            "Rizal Street",
            "Mabini Street",
            "Bonifacio Avenue",
            "Luna Street",
            "Del Pilar Street",
            "Aguinaldo Highway",
        ],
    },
];

/// The ASCII form of a name for a made-up email address: common accented letters folded,
/// spaces to dots, anything else dropped.
pub(crate) fn ascii_slug(name: &str, out: &mut String) {
    for c in name.chars().flat_map(char::to_lowercase) {
        let folded = match c {
            'a'..='z' | '0'..='9' => Some(c),
            ' ' | '-' => Some('.'),
            'á' | 'à' | 'â' | 'ä' | 'ã' | 'ą' => Some('a'),
            'é' | 'è' | 'ê' | 'ë' | 'ę' => Some('e'),
            'í' | 'ì' | 'î' | 'ï' => Some('i'),
            'ó' | 'ò' | 'ô' | 'ö' | 'õ' => Some('o'),
            'ú' | 'ù' | 'û' | 'ü' => Some('u'),
            'ñ' | 'ń' => Some('n'),
            'ç' | 'ć' => Some('c'),
            'ł' => Some('l'),
            'ś' => Some('s'),
            'ź' | 'ż' => Some('z'),
            'ß' => {
                out.push('s');
                Some('s')
            }
            _ => None,
        };
        if let Some(c) = folded {
            out.push(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use canopy_core::CountryCode;

    #[test]
    fn every_locale_is_valid_and_complete() {
        for locale in LOCALES {
            assert!(
                CountryCode::parse(locale.country).is_ok(),
                "{}",
                locale.country
            );
            assert!(!locale.first.is_empty() && !locale.last.is_empty());
            assert!(!locale.cities.is_empty() && !locale.streets.is_empty());
        }
    }

    #[test]
    fn slugs_are_ascii() {
        let mut s = String::new();
        ascii_slug("Łukasz Wiśniewski-Schäfer ß", &mut s);
        assert_eq!(s, "lukasz.wisniewski.schafer.ss");
    }
}
