package seed

// The word lists below are the raw material of the synthetic world. Titles,
// bodies and tags are composed from a category's own words so that
// same-category content shares vocabulary (TF-IDF similarity has something to
// find) while different categories barely overlap.

// category describes one content category: its tag vocabulary (single
// lowercase ASCII tokens), extra English title phrases, Japanese and Korean
// title words, and the products partners sell into it.
type category struct {
	name     string
	label    string    // capitalised, for bios
	tags     []string  // 6–12 words, also used in titles and bodies
	phrases  []string  // multi-word English phrases for titles and bodies
	ja       []string  // Japanese nouns for CJK titles and bodies
	ko       []string  // Korean nouns for CJK titles and bodies
	products []product // product nouns with a typical price in minor units
	bios     [2]string // creator bio openers
	weight   float64   // relative share of creators in this category
}

type product struct {
	noun  string
	price int64 // typical price in minor units
}

var categories = []category{
	{
		name: "fitness", label: "Fitness", weight: 1.2,
		tags:     []string{"workout", "hiit", "yoga", "running", "strength", "cardio", "protein", "stretching", "marathon", "pilates", "gym", "mobility"},
		phrases:  []string{"home workouts", "leg day", "morning yoga", "couch to 5k", "core strength", "recovery days"},
		ja:       []string{"筋トレ", "ヨガ", "ランニング", "ストレッチ", "ダイエット", "プロテイン"},
		ko:       []string{"운동", "요가", "러닝", "스트레칭", "다이어트", "헬스"},
		products: []product{{"Yoga Mat", 3999}, {"Resistance Bands", 1999}, {"Protein Powder", 4499}, {"Running Shoes", 11999}, {"Foam Roller", 2499}},
		bios:     [2]string{"Coach and runner", "Certified trainer"},
	},
	{
		name: "cooking", label: "Cooking", weight: 1.3,
		tags:     []string{"ramen", "pasta", "baking", "vegan", "mealprep", "sourdough", "spices", "grilling", "dessert", "noodles", "recipe", "streetfood"},
		phrases:  []string{"weeknight dinners", "knife skills", "street food", "one pot meals", "bread baking", "comfort food"},
		ja:       []string{"ラーメン", "寿司", "カレー", "弁当", "和食", "スイーツ"},
		ko:       []string{"라면", "김치", "비빔밥", "떡볶이", "한식", "디저트"},
		products: []product{{"Chef Knife", 8999}, {"Cast Iron Pan", 4999}, {"Spice Set", 2999}, {"Stand Mixer", 29999}, {"Ramen Bowl Set", 3499}},
		bios:     [2]string{"Home cook", "Former line cook"},
	},
	{
		name: "gaming", label: "Gaming", weight: 1.4,
		tags:     []string{"speedrun", "esports", "rpg", "indie", "fps", "minecraft", "strategy", "retro", "console", "streaming", "mods", "walkthrough"},
		phrases:  []string{"boss fights", "ranked matches", "hidden secrets", "first playthrough", "patch notes", "game night"},
		ja:       []string{"ゲーム", "実況", "攻略", "レトロゲーム", "eスポーツ", "インディーゲーム"},
		ko:       []string{"게임", "실황", "공략", "레트로", "e스포츠", "인디게임"},
		products: []product{{"Gaming Headset", 7999}, {"Mechanical Keyboard", 12999}, {"Controller", 5999}, {"Capture Card", 14999}, {"Gaming Chair", 24999}},
		bios:     [2]string{"Variety streamer", "Speedrunner"},
	},
	{
		name: "travel", label: "Travel", weight: 1.0,
		tags:     []string{"backpacking", "roadtrip", "hiking", "islands", "budget", "hostels", "camping", "citybreak", "beaches", "mountains", "solo", "itinerary"},
		phrases:  []string{"hidden gems", "packing lists", "night trains", "local markets", "travel hacks", "weekend getaways"},
		ja:       []string{"旅行", "温泉", "京都", "一人旅", "絶景", "ホテル"},
		ko:       []string{"여행", "제주도", "캠핑", "혼행", "맛집", "호텔"},
		products: []product{{"Carry-On Backpack", 14999}, {"Packing Cubes", 2999}, {"Travel Adapter", 1999}, {"Hiking Boots", 13999}, {"Neck Pillow", 1999}},
		bios:     [2]string{"Slow traveller", "Full-time nomad"},
	},
	{
		name: "music", label: "Music", weight: 1.1,
		tags:     []string{"guitar", "piano", "beats", "vinyl", "singing", "production", "synth", "concert", "jazz", "hiphop", "covers", "songwriting"},
		phrases:  []string{"chord progressions", "studio sessions", "live loops", "record digging", "vocal warmups", "mixing tips"},
		ja:       []string{"音楽", "ギター", "ピアノ", "ライブ", "作曲", "歌ってみた"},
		ko:       []string{"음악", "기타", "피아노", "공연", "작곡", "커버곡"},
		products: []product{{"Studio Headphones", 9999}, {"USB Microphone", 8999}, {"Guitar Strings", 999}, {"MIDI Keyboard", 11999}, {"Vinyl Record", 2999}},
		bios:     [2]string{"Producer and pianist", "Singer-songwriter"},
	},
	{
		name: "tech", label: "Tech", weight: 1.1,
		tags:     []string{"gadgets", "smartphone", "coding", "ai", "laptop", "linux", "unboxing", "smarthome", "programming", "review", "setup", "opensource"},
		phrases:  []string{"desk setups", "battery life", "budget laptops", "side projects", "home servers", "camera tests"},
		ja:       []string{"ガジェット", "スマホ", "プログラミング", "パソコン", "人工知能", "レビュー"},
		ko:       []string{"가전", "스마트폰", "코딩", "노트북", "인공지능", "리뷰"},
		products: []product{{"USB-C Hub", 4999}, {"Wireless Earbuds", 12999}, {"Laptop Stand", 3999}, {"Smart Plug", 1999}, {"Webcam", 7999}},
		bios:     [2]string{"Engineer and reviewer", "Gadget nerd"},
	},
	{
		name: "fashion", label: "Fashion", weight: 1.0,
		tags:     []string{"streetwear", "thrifting", "sneakers", "outfits", "vintage", "capsule", "denim", "styling", "runway", "accessories", "tailoring", "lookbook"},
		phrases:  []string{"outfit ideas", "thrift hauls", "capsule wardrobe", "sneaker drops", "fall looks", "styling basics"},
		ja:       []string{"ファッション", "古着", "コーデ", "スニーカー", "着物", "プチプラ"},
		ko:       []string{"패션", "빈티지", "코디", "스니커즈", "한복", "데일리룩"},
		products: []product{{"Denim Jacket", 8999}, {"Canvas Sneakers", 6999}, {"Leather Belt", 3999}, {"Tote Bag", 2999}, {"Sunglasses", 4999}},
		bios:     [2]string{"Stylist", "Thrift addict"},
	},
	{
		name: "beauty", label: "Beauty", weight: 1.0,
		tags:     []string{"skincare", "makeup", "haircare", "serum", "sunscreen", "nails", "fragrance", "glowup", "routine", "kbeauty", "lipstick", "cleanser"},
		phrases:  []string{"night routines", "glass skin", "drugstore dupes", "everyday makeup", "curly hair care", "product empties"},
		ja:       []string{"スキンケア", "メイク", "ヘアケア", "日焼け止め", "ネイル", "コスメ"},
		ko:       []string{"스킨케어", "메이크업", "헤어", "선크림", "네일", "화장품"},
		products: []product{{"Vitamin C Serum", 2899}, {"Mineral Sunscreen", 1899}, {"Lip Tint", 1499}, {"Hair Oil", 2499}, {"Makeup Brush Set", 3499}},
		bios:     [2]string{"Esthetician", "Makeup artist"},
	},
	{
		name: "finance", label: "Finance", weight: 0.8,
		tags:     []string{"investing", "budgeting", "stocks", "crypto", "savings", "retirement", "etf", "taxes", "frugal", "dividends", "realestate", "sidehustle"},
		phrases:  []string{"index funds", "emergency funds", "debt payoff", "passive income", "money mistakes", "first paycheck"},
		ja:       []string{"投資", "節約", "株式", "貯金", "資産運用", "副業"},
		ko:       []string{"투자", "재테크", "주식", "저축", "부동산", "부업"},
		products: []product{{"Budget Planner", 1999}, {"Finance Course", 9900}, {"Stock Screener Plan", 1500}, {"Investing Book", 2499}, {"Hardware Wallet", 7900}},
		bios:     [2]string{"Ex-banker", "CFA and saver"},
	},
	{
		name: "comedy", label: "Comedy", weight: 1.0,
		tags:     []string{"standup", "sketch", "pranks", "parody", "improv", "memes", "roast", "skits", "satire", "bloopers", "podcast", "impressions"},
		phrases:  []string{"crowd work", "office life", "family dinners", "awkward moments", "open mic nights", "reaction videos"},
		ja:       []string{"お笑い", "漫才", "コント", "ドッキリ", "あるある", "モノマネ"},
		ko:       []string{"코미디", "개그", "몰래카메라", "패러디", "상황극", "성대모사"},
		products: []product{{"Comedy Tour Ticket", 3500}, {"Joke Book", 1499}, {"Novelty Mug", 1299}, {"Graphic Tee", 2499}, {"Podcast Mic", 6999}},
		bios:     [2]string{"Stand-up comic", "Sketch writer"},
	},
	{
		name: "art", label: "Art", weight: 0.8,
		tags:     []string{"painting", "drawing", "watercolor", "sketchbook", "illustration", "ceramics", "digitalart", "anime", "portrait", "calligraphy", "sculpture", "procreate"},
		phrases:  []string{"speed paintings", "art supplies", "color theory", "daily sketches", "studio tours", "pottery wheel"},
		ja:       []string{"イラスト", "水彩", "漫画", "書道", "陶芸", "アニメ"},
		ko:       []string{"그림", "수채화", "웹툰", "캘리그라피", "도예", "일러스트"},
		products: []product{{"Watercolor Set", 3999}, {"Sketchbook", 1599}, {"Drawing Tablet", 19999}, {"Brush Pens", 1999}, {"Clay Kit", 2999}},
		bios:     [2]string{"Illustrator", "Painter and potter"},
	},
	{
		name: "science", label: "Science", weight: 0.7,
		tags:     []string{"physics", "space", "biology", "chemistry", "astronomy", "experiments", "math", "climate", "robotics", "dinosaurs", "neuroscience", "telescope"},
		phrases:  []string{"black holes", "kitchen experiments", "night sky", "deep sea", "brain facts", "rocket launches"},
		ja:       []string{"科学", "宇宙", "実験", "物理", "天体観測", "ロボット"},
		ko:       []string{"과학", "우주", "실험", "물리학", "천체", "로봇"},
		products: []product{{"Beginner Telescope", 19999}, {"Chemistry Kit", 4999}, {"Microscope", 12999}, {"Robot Kit", 8999}, {"Star Map Poster", 1999}},
		bios:     [2]string{"Physicist", "Science teacher"},
	},
}

// sharedTags are generic tags any content may carry.
var sharedTags = []string{"tips", "beginner", "tutorial", "vlog", "challenge", "trending"}

// English title templates; each %s takes a category word or phrase.
var enTitles = []string{
	"%s for beginners",
	"My %s routine",
	"10 %s tips that actually work",
	"%s vs %s: which is better?",
	"A week of %s",
	"The truth about %s",
	"%s and %s in 15 minutes",
	"Why I switched to %s",
	"The ultimate %s guide",
	"%s mistakes to avoid",
	"Live Q&A: %s and %s",
	"Behind the scenes: %s",
}

// English body sentence templates.
var enBodies = []string{
	"In this one I cover %s and %s.",
	"We talk about %s, %s and what I learned along the way.",
	"Today's focus is %s.",
	"Save this for your next %s session.",
	"Drop your favourite %s ideas in the comments.",
	"Everything you need to know about %s, step by step.",
}

// Japanese and Korean templates; %s takes a CJK category word.
var jaTitles = []string{
	"%sの基本",
	"初心者のための%s入門",
	"%sと%sのコツ",
	"今週の%sまとめ",
	"東京の%s巡り",
	"%sを始めよう",
}

var jaBodies = []string{
	"今日は%sについて話します。",
	"%sと%sのおすすめも紹介します。",
	"%sが好きな人はぜひ見てください。",
}

var koTitles = []string{
	"%s 기초",
	"초보자를 위한 %s 입문",
	"%s & %s 꿀팁",
	"이번 주 %s 모음",
	"서울 %s 투어",
	"%s 시작하기",
}

var koBodies = []string{
	"오늘은 %s에 대해 이야기합니다.",
	"%s, %s 추천도 소개합니다.",
	"%s 좋아하시는 분들은 꼭 보세요.",
}

// country is a country code with its share of people and a UTC offset in
// minutes, used to put users' active hours in their local daytime.
type country struct {
	code   string
	weight float64
	offset int // minutes east of UTC
}

var countries = []country{
	{"US", 25, -300}, {"GB", 8, 0}, {"DE", 7, 60}, {"FR", 6, 60},
	{"BR", 10, -180}, {"JP", 8, 540}, {"KR", 7, 540}, {"IN", 12, 330},
	{"ES", 5, 60}, {"MX", 6, -360}, {"CA", 4, -300}, {"AU", 2, 600},
}

// Age brackets and their shares of the fan population.
var ageBrackets = []string{"13-17", "18-24", "25-34", "35-44", "45-54", "55+"}

var ageWeights = []float64{10, 30, 30, 15, 9, 6}

// name pairs a handle-safe romanisation with the displayed form.
type name struct{ handle, display string }

var givenNames = []name{
	{"maya", "Maya"}, {"liam", "Liam"}, {"sofia", "Sofia"}, {"noah", "Noah"},
	{"ava", "Ava"}, {"lucas", "Lucas"}, {"emma", "Emma"}, {"leo", "Leo"},
	{"zoe", "Zoe"}, {"omar", "Omar"}, {"priya", "Priya"}, {"arjun", "Arjun"},
	{"ana", "Ana"}, {"mateo", "Mateo"}, {"chloe", "Chloe"}, {"felix", "Felix"},
	{"nina", "Nina"}, {"hugo", "Hugo"}, {"lea", "Léa"}, {"sam", "Sam"},
	{"jonas", "Jonas"}, {"amara", "Amara"}, {"diego", "Diego"}, {"isla", "Isla"},
}

var familyNames = []string{
	"Chen", "Patel", "Garcia", "Smith", "Müller", "Rossi", "Silva", "Dubois",
	"Okafor", "Nguyen", "Johansson", "López", "Khan", "Brown", "Costa", "Weber",
}

var jaGivenNames = []name{
	{"haruto", "陽翔"}, {"yui", "結衣"}, {"sota", "蒼太"}, {"hina", "陽菜"},
	{"ren", "蓮"}, {"aoi", "葵"}, {"riku", "陸"}, {"sakura", "さくら"},
}

var jaFamilyNames = []string{"佐藤", "鈴木", "高橋", "田中", "伊藤", "山本"}

var koGivenNames = []name{
	{"minjun", "민준"}, {"seoyeon", "서연"}, {"jiho", "지호"}, {"hayoon", "하윤"},
	{"doyun", "도윤"}, {"jiwoo", "지우"}, {"seojun", "서준"}, {"yuna", "유나"},
}

var koFamilyNames = []string{"김", "이", "박", "최", "정", "강"}

// Partner brands, used in order; more partners than names get a numeric suffix.
var partnerNames = []struct{ name, currency string }{
	{"Northwind Outfitters", "USD"},
	{"Alpenglow GmbH", "EUR"},
	{"Bluefin Audio", "USD"},
	{"Maison Lumière", "EUR"},
	{"Kettle & Crumb", "USD"},
	{"Pixel Forge", "USD"},
	{"Verde Beauty", "EUR"},
	{"Summit Money", "USD"},
}

var productAdjectives = []string{"Pro", "Lite", "Everyday", "Studio", "Travel", "Classic", "Max", "Mini"}
