-- A realistic mix of browser events for POST /api/event: pageviews, outbound clicks, forms and
-- custom events with revenue, from many visitors.
-- BENCH_OFFSET: where this wrk's sequence starts, so that two wrk runs send one visitor's events
-- to two servers seconds apart, as a balancer without sticky sessions would
local counter = tonumber(os.getenv("BENCH_OFFSET") or "0")
local site = os.getenv("BENCH_SITE") or "bench.example"
local paths = {"/", "/pricing", "/blog/a", "/blog/b", "/docs/start", "/contact", "/shop/item-1"}
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/plain"
wrk.headers["User-Agent"] = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

request = function()
  counter = counter + 1
  local visitor = "v" .. (counter % 5000)
  local path = paths[(counter % #paths) + 1]
  local kind = counter % 10
  local body
  if kind < 6 then
    body = string.format('{"site":"%s","url":"https://%s%s?x=%d","referrer":"https://www.google.com/","anonymous_id":"%s"}', site, site, path, counter, visitor)
  elseif kind < 8 then
    body = string.format('{"site":"%s","type":"click","url":"https://%s%s","click":{"url":"https://www.amazon.de/dp/B08N5WRWN%d","text":"Buy now"},"anonymous_id":"%s"}', site, site, path, counter % 10, visitor)
  elseif kind < 9 then
    body = string.format('{"site":"%s","type":"form","url":"https://%s/contact","form":{"plugin":"cf7","contactFormId":%d,"unitTag":"wpcf7-f4-p5-o1","containerPostId":5,"status":"mail_sent"},"anonymous_id":"%s"}', site, site, counter % 3, visitor)
  else
    body = string.format('{"site":"%s","name":"Purchase","props":{"plan":"pro","seats":%d},"revenue":{"amount":"%d.99","currency":"EUR"},"anonymous_id":"%s"}', site, counter % 5, counter % 100, visitor)
  end
  return wrk.format(nil, "/api/event", nil, body)
end
