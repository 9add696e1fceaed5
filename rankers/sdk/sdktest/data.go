package sdktest

import (
	"fmt"
	"math/rand/v2"

	"github.com/limelight-hq/limelight/rankers/sdk"
)

// Sizes of the Dataset that Run trains on.
const (
	NumUsers = 60
	NumItems = 48
	// idleUsers is how many of the last users have no interactions.
	idleUsers = 5
)

var categories = []struct {
	name  string
	words []string
	tags  []string
}{
	{"fitness", []string{"workout", "squat", "protein", "cardio", "stretch", "gym"}, []string{"fitness", "health"}},
	{"food", []string{"recipe", "ramen", "bake", "spicy", "noodles", "kitchen"}, []string{"food", "cooking"}},
	{"gaming", []string{"speedrun", "boss", "controller", "stream", "level", "patch"}, []string{"gaming", "esports"}},
	{"travel", []string{"kyoto", "beach", "hostel", "flight", "hike", "passport"}, []string{"travel", "wanderlust"}},
}

// cjkTitles are Japanese, Chinese and Korean titles, one per category, so
// that text rankers see scripts without spaces.
var cjkTitles = []string{"朝の筋トレ習慣", "簡単なラーメンの作り方", "游戏攻略和直播", "서울 여행 가이드"}

// Dataset returns the small dataset Run trains on: NumItems items in four
// categories with tags and text (some of it Japanese, Chinese or Korean),
// and NumUsers users who each mostly engage with one category. The last few
// users have no interactions. It is the same on every call.
func Dataset() *sdk.Dataset {
	rng := rand.New(rand.NewPCG(1, 2))
	d := &sdk.Dataset{NumUsers: NumUsers, NumItems: NumItems}
	const t0 = 1_780_000_000 // a Unix time in 2026
	for i := range NumItems {
		c := categories[i%len(categories)]
		title := fmt.Sprintf("%s %s day %d", c.words[rng.IntN(len(c.words))], c.words[rng.IntN(len(c.words))], i)
		if i%7 == 0 {
			title = cjkTitles[i%len(cjkTitles)]
		}
		body := ""
		for range 12 {
			body += c.words[rng.IntN(len(c.words))] + " "
		}
		d.Features = append(d.Features, sdk.ItemFeatures{
			Category: c.name, Tags: c.tags, Title: title, Body: body, Language: "en",
			PublishedAt: t0 + int64(i)*3600,
		})
	}
	for u := range NumUsers - idleUsers {
		fav := u % len(categories)
		for range 8 {
			var item int
			if rng.IntN(4) > 0 {
				item = fav + len(categories)*rng.IntN(NumItems/len(categories))
			} else {
				item = rng.IntN(NumItems)
			}
			w := float32(1 + rng.IntN(3))
			if rng.IntN(10) == 0 {
				w = -1 // a skip
			}
			d.Users = append(d.Users, int32(u))
			d.Items = append(d.Items, int32(item))
			d.Weights = append(d.Weights, w)
			d.Times = append(d.Times, t0+int64(NumItems)*3600+rng.Int64N(30*86400))
		}
	}
	return d
}

// consumedBy returns the items each user interacted with in d.
func consumedBy(d *sdk.Dataset) []map[int32]bool {
	out := make([]map[int32]bool, d.NumUsers)
	for u := range out {
		out[u] = map[int32]bool{}
	}
	for j, u := range d.Users {
		out[u][d.Items[j]] = true
	}
	return out
}
