namespace Portcullis.Cel.Tests;

/// <summary>The Kubernetes CEL libraries (k8s.io/apiserver pkg/cel/library at kubernetes-1.33.0). Cases from
/// the libraries' doc comments and *_test.go files; results as the Go code computes them.</summary>
public sealed class KubernetesLibraryTests
{
    static CelValue Eval(string expr) => CelEnvironment.Kubernetes().Compile(expr).Evaluate(Activation.Empty);

    static string Result(string expr) => Eval(expr).ToString()!;

    static string CompileError(string expr) =>
        Assert.Throws<CelCompileException>(() => CelEnvironment.Kubernetes().Compile(expr)).Message;

    // lists.go doc comments
    [Theory]
    [InlineData("[1, 2, 3].isSorted()", "true")]
    [InlineData("['a', 'b', 'b', 'c'].isSorted()", "true")]
    [InlineData("[2.0, 1.0].isSorted()", "false")]
    [InlineData("[1].isSorted()", "true")]
    [InlineData("[].isSorted()", "true")]
    [InlineData("[1, 3].sum()", "4")]
    [InlineData("[1.0, 3.0].sum()", "4")]
    [InlineData("[duration('1m'), duration('1s')].sum() == duration('1m1s')", "true")]
    [InlineData("[1u, 2u].sum()", "3u")]
    [InlineData("[].sum()", "0")]
    [InlineData("[9223372036854775807, 1].sum()", "error: integer overflow")]
    [InlineData("[1, 3].min()", "1")]
    [InlineData("[1, 3].max()", "3")]
    [InlineData("['b', 'a', 'c'].max()", "\"c\"")]
    [InlineData("[].min()", "error: min called on empty list")]
    [InlineData("[].max()", "error: max called on empty list")]
    [InlineData("[1].min()", "1")]
    [InlineData("[1, 2, 2, 3].indexOf(2)", "1")]
    [InlineData("['a', 'b', 'b', 'c'].lastIndexOf('b')", "2")]
    [InlineData("[1.0].indexOf(1.1)", "-1")]
    [InlineData("[].indexOf('string')", "-1")]
    [InlineData("'abcb'.indexOf('b') == 1 && 'abcb'.lastIndexOf('b') == 3", "true")]
    public void Lists(string expr, string expected) => Assert.Equal(expected, Result(expr));

    [Fact]
    public void ListsAreTypeChecked()
    {
        Assert.Contains("found no matching overload for 'sum' applied to 'list(string).()'", CompileError("['a'].sum() == 'a'"));
        Assert.Equal(CelType.Int, CelEnvironment.Kubernetes().Compile("[1, 2].min()").ResultType);
        // the libraries are Kubernetes' only: the plain environment does not know them
        Assert.Throws<CelCompileException>(() => new CelEnvironment().Compile("[1].isSorted()"));
    }

    // regex.go: Go's regexp FindString / FindAllString (the doc comment's '[0-9]*' examples show the
    // non-empty matches only; Go also reports empty matches that do not abut a previous match)
    [Theory]
    [InlineData("'abc 123'.find('[0-9]+')", "\"123\"")]
    [InlineData("'abc 123'.find('[0-9]*')", "\"\"")]
    [InlineData("'abc 123'.find('xyz')", "\"\"")]
    [InlineData("'123 abc 456'.findAll('[0-9]+')", "[\"123\", \"456\"]")]
    [InlineData("'123 abc 456'.findAll('[0-9]+', 1)", "[\"123\"]")]
    [InlineData("'123 abc 456'.findAll('[0-9]+', 0)", "[]")]
    [InlineData("'123 abc 456'.findAll('[0-9]+', -1)", "[\"123\", \"456\"]")]
    [InlineData("'123 abc 456'.findAll('xyz')", "[]")]
    [InlineData("'123 abc 456'.findAll('[0-9]*')", "[\"123\", \"\", \"\", \"\", \"\", \"456\"]")]
    [InlineData("'baaab'.findAll('a*')", "[\"\", \"aaa\", \"\"]")]
    public void Regex(string expr, string expected) => Assert.Equal(expected, Result(expr));

    [Fact]
    public void RegexErrors()
    {
        Assert.StartsWith("error: Illegal regex: ", Result("'abc'.find('(')"));
        Assert.Contains("found no matching overload for 'findAll' applied to 'string.(string, string)'", CompileError("'a'.findAll('a', 'b')"));
    }

    // quantity_test.go (kubernetes-1.33.0)
    [Theory]
    [InlineData("quantity('12Mi') == quantity('12582912')", "true")]
    [InlineData("isQuantity('20')", "true")]
    [InlineData("isQuantity('20M')", "true")]
    [InlineData("isQuantity('20Mi')", "true")]
    [InlineData("isQuantity('20Mo')", "false")]
    [InlineData("isQuantity('10Mm')", "false")]
    [InlineData("quantity('200M') == quantity('200M')", "true")]
    [InlineData("quantity('200M') == quantity('0.2G') && quantity('0.2G') == quantity('200M')", "true")]
    [InlineData("quantity('2M') == quantity('0.002G') && quantity('2000k') == quantity('2M') && quantity('0.002G') == quantity('2000k')", "true")]
    [InlineData("quantity('200M') == quantity('0.3G')", "false")]
    [InlineData("quantity('50M').isLessThan(quantity('50Mi'))", "true")]
    [InlineData("quantity('50M').isLessThan(quantity('100M'))", "true")]
    [InlineData("quantity('100M').isLessThan(quantity('50M'))", "false")]
    [InlineData("quantity('50Mi').isGreaterThan(quantity('50M'))", "true")]
    [InlineData("quantity('150Mi').isGreaterThan(quantity('100Mi'))", "true")]
    [InlineData("quantity('50M').isGreaterThan(quantity('100M'))", "false")]
    [InlineData("quantity('200M').compareTo(quantity('0.2G'))", "0")]
    [InlineData("quantity('50M').compareTo(quantity('50Mi'))", "-1")]
    [InlineData("quantity('50Mi').compareTo(quantity('50M'))", "1")]
    [InlineData("quantity('50k').add(quantity('20')) == quantity('50.02k')", "true")]
    [InlineData("quantity('50k').add(20).isLessThan(quantity('50020'))", "false")]
    [InlineData("quantity('50k').sub(quantity('20')) == quantity('49.98k')", "true")]
    [InlineData("quantity('50k').sub(20) == quantity('49980')", "true")]
    [InlineData("quantity('50k').add(20).sub(quantity('100k')).asInteger()", "-49980")]
    [InlineData("quantity('50k').add(20).sub(quantity('100k')).sub(-50000).asInteger()", "20")]
    [InlineData("quantity('50k').asInteger()", "50000")]
    [InlineData("quantity('9999999999999999999999999999999999999G').asInteger()", "error: cannot convert value to integer")]
    [InlineData("quantity('9999999999999999999999999999999999999G').isInteger()", "false")]
    [InlineData("quantity('50').isInteger()", "true")]
    [InlineData("quantity('50.703k').asApproximateFloat()", "50703")]
    // beyond the upstream table: apimachinery's representation decides isInteger (AsInt64)
    [InlineData("quantity('1.0').isInteger()", "false")]
    [InlineData("quantity('1.5Gi').isInteger()", "false")]
    [InlineData("quantity('1.5Gi') == quantity('1536Mi')", "true")]
    [InlineData("quantity('1.5Gi').asApproximateFloat()", "1610612736")]
    [InlineData("quantity('1.5Gi').add(quantity('0.5Gi')) == quantity('2Gi')", "true")]
    [InlineData("quantity('1e3').asInteger()", "1000")]
    [InlineData("quantity('1E-3') == quantity('1m')", "true")]
    [InlineData("quantity('100m').asApproximateFloat()", "0.1")]
    [InlineData("quantity('0.0000000001') == quantity('1n')", "true")]
    [InlineData("quantity('-0.0000000001') == quantity('-1n')", "true")]
    [InlineData("quantity('16Ei') == quantity('9223372036854775807')", "true")]
    [InlineData("sign(quantity('-5')) == -1 && sign(quantity('0')) == 0 && sign(quantity('3k')) == 1", "true")]
    [InlineData("quantity('1e-2147483648') == quantity('1n') && quantity('12e-10') == quantity('2n')", "true")]
    [InlineData("quantity('1e1000000').isGreaterThan(quantity('1')) && quantity('-1e1000000').isLessThan(quantity('1'))", "true")]
    public void Quantity(string expr, string expected) => Assert.Equal(expected, Result(expr));

    [Theory]
    [InlineData("quantity('10Mo')", "error: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")]
    [InlineData("quantity('10Mm')", "error: unable to parse quantity's suffix")]
    [InlineData("quantity('')", "error: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")]
    [InlineData("quantity('.')", "error: unable to parse numeric part of quantity")]
    [InlineData("quantity('1K')", "error: unable to parse quantity's suffix")]
    [InlineData("quantity(' 1')", "error: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")]
    public void QuantityErrors(string expr, string expected) => Assert.Equal(expected, Result(expr));

    [Fact]
    public void QuantityIsTypeChecked()
    {
        Assert.Contains("found no matching overload for 'isQuantity' applied to '(list(int))'", CompileError("isQuantity([1, 2, 3])"));
        Assert.Equal("kubernetes.Quantity", CelEnvironment.Kubernetes().Compile("quantity('1')").ResultType.Name);
        // sign is declared as a global overload in 1.33 (cel.Overload), so the receiver form does not check
        Assert.Contains("found no matching overload for 'sign'", CompileError("quantity('1').sign() == 1"));
    }

    // ip_test.go (kubernetes-1.33.0)
    [Theory]
    [InlineData("ip('192.168.0.1') == ip('192.168.0.1')", "true")]
    [InlineData("ip('192.168.0.1') == ip('192.168.0.2')", "false")]
    [InlineData("isIP('192.168.0.1')", "true")]
    [InlineData("isIP('192.168.0.1.0')", "false")]
    [InlineData("ip.isCanonical('127.0.0.1')", "true")]
    [InlineData("ip('192.168.0.1').family()", "4")]
    [InlineData("ip('0.0.0.0').isUnspecified()", "true")]
    [InlineData("ip('127.0.0.1').isUnspecified()", "false")]
    [InlineData("ip('127.0.0.1').isLoopback()", "true")]
    [InlineData("ip('1.2.3.4').isLoopback()", "false")]
    [InlineData("ip('224.0.0.1').isLinkLocalMulticast()", "true")]
    [InlineData("ip('224.0.1.1').isLinkLocalMulticast()", "false")]
    [InlineData("ip('169.254.169.254').isLinkLocalUnicast()", "true")]
    [InlineData("ip('192.168.0.1').isLinkLocalUnicast()", "false")]
    [InlineData("ip('192.168.0.1').isGlobalUnicast()", "true")]
    [InlineData("ip('255.255.255.255').isGlobalUnicast()", "false")]
    [InlineData("ip('2001:db8::68') == ip('2001:0db8:0:0:0:0:0:68')", "true")]
    [InlineData("isIP('2001:db8::68')", "true")]
    [InlineData("isIP('2001:db8:::68')", "false")]
    [InlineData("ip.isCanonical('2001:db8::68')", "true")]
    [InlineData("ip.isCanonical('2001:DB8::68')", "false")]
    [InlineData("ip('2001:db8::68').family()", "6")]
    [InlineData("ip('::').isUnspecified()", "true")]
    [InlineData("ip('::1').isUnspecified()", "false")]
    [InlineData("ip('::1').isLoopback()", "true")]
    [InlineData("ip('2001:db8::abcd').isLoopback()", "false")]
    [InlineData("ip('ff02::1').isLinkLocalMulticast()", "true")]
    [InlineData("ip('fd00::1').isLinkLocalMulticast()", "false")]
    [InlineData("ip('fe80::1').isLinkLocalUnicast()", "true")]
    [InlineData("ip('fd80::1').isLinkLocalUnicast()", "false")]
    [InlineData("ip('2001:db8::abcd').isGlobalUnicast()", "true")]
    [InlineData("ip('ff00::1').isGlobalUnicast()", "false")]
    [InlineData("string(ip('192.168.0.1'))", "\"192.168.0.1\"")]
    [InlineData("type(ip('192.168.0.1')) == net.IP", "true")]
    // beyond the upstream table: netip's canonical text (RFC 5952)
    [InlineData("string(ip('2001:0DB8:0:0:1:0:0:1'))", "\"2001:db8::1:0:0:1\"")]
    [InlineData("string(ip('0:0:1:0:0:0:0:0'))", "\"0:0:1::\"")]
    [InlineData("string(ip('1:0:0:0:0:0:0:0'))", "\"1::\"")]
    [InlineData("string(ip('::1.2.3.4'))", "\"::102:304\"")]
    [InlineData("[ip('::1'), cidr('10.0.0.0/8').ip()]", "[ip(\"::1\"), ip(\"10.0.0.0\")]")]
    [InlineData("isIP('1.2.3')", "false")]
    [InlineData("isIP('01.2.3.4')", "false")]
    [InlineData("isIP('1.2.3.256')", "false")]
    [InlineData("isIP('1::2::3')", "false")]
    [InlineData("isIP('1:2:3:4:5:6:7:8:9')", "false")]
    public void IP(string expr, string expected) => Assert.Equal(expected, Result(expr));

    [Theory]
    [InlineData("ip('192.168.0.1.0')", "error: IP Address \"192.168.0.1.0\" parse error during conversion from string: ParseAddr(\"192.168.0.1.0\"): IPv4 address too long")]
    [InlineData("ip.isCanonical('127.0.0.1.0')", "error: IP Address \"127.0.0.1.0\" parse error during conversion from string: ParseAddr(\"127.0.0.1.0\"): IPv4 address too long")]
    [InlineData("ip('2001:db8:::68')", "error: IP Address \"2001:db8:::68\" parse error during conversion from string: ParseAddr(\"2001:db8:::68\"): each colon-separated field must have at least one digit (at \":68\")")]
    [InlineData("ip.isCanonical('2001:db8:::68')", "error: IP Address \"2001:db8:::68\" parse error during conversion from string: ParseAddr(\"2001:db8:::68\"): each colon-separated field must have at least one digit (at \":68\")")]
    [InlineData("ip('fe80::1%eth0')", "error: IP address \"fe80::1%eth0\" with zone value is not allowed")]
    [InlineData("ip('::ffff:1.2.3.4')", "error: IPv4-mapped IPv6 address \"::ffff:1.2.3.4\" is not allowed")]
    [InlineData("ip('foo')", "error: IP Address \"foo\" parse error during conversion from string: ParseAddr(\"foo\"): unable to parse IP")]
    [InlineData("ip('1.2.3.04')", "error: IP Address \"1.2.3.04\" parse error during conversion from string: ParseAddr(\"1.2.3.04\"): IPv4 field has octet with leading zero")]
    public void IPErrors(string expr, string expected) => Assert.Equal(expected, Result(expr));

    // cidr_test.go (kubernetes-1.33.0)
    [Theory]
    [InlineData("cidr('192.168.0.0/24') == cidr('192.168.0.0/24')", "true")]
    [InlineData("cidr('192.168.0.0/24').containsIP(ip('192.168.0.1'))", "true")]
    [InlineData("cidr('192.168.0.0/24').containsIP(ip('192.168.1.1'))", "false")]
    [InlineData("cidr('192.168.0.0/24').containsIP('192.168.0.1')", "true")]
    [InlineData("cidr('192.168.0.0/24').containsIP('192.168.1.1')", "false")]
    [InlineData("cidr('192.168.0.0/24').containsCIDR(cidr('192.168.0.0/25'))", "true")]
    [InlineData("cidr('192.168.0.0/24').containsCIDR(cidr('192.168.0.1/32'))", "true")]
    [InlineData("cidr('192.168.0.0/24').containsCIDR(cidr('192.168.0.0/23'))", "false")]
    [InlineData("cidr('192.168.0.0/24').containsCIDR(cidr('192.169.0.1/32'))", "false")]
    [InlineData("cidr('192.168.0.0/24').containsCIDR('192.168.0.0/25')", "true")]
    [InlineData("cidr('192.168.0.0/24').containsCIDR('192.168.0.0/23')", "false")]
    [InlineData("cidr('192.168.0.0/24').ip() == ip('192.168.0.0')", "true")]
    [InlineData("cidr('192.168.0.0/24').masked() == cidr('192.168.0.0/24')", "true")]
    [InlineData("cidr('192.168.0.1/24').masked() == cidr('192.168.0.0/24')", "true")]
    [InlineData("cidr('192.168.0.1/24') == cidr('192.168.0.0/24')", "false")]
    [InlineData("cidr('192.168.0.0/24').prefixLength()", "24")]
    [InlineData("cidr('2001:db8::/32') == cidr('2001:db8::/32')", "true")]
    [InlineData("cidr('2001:db8::/32').containsIP(ip('2001:db8::1'))", "true")]
    [InlineData("cidr('2001:db8::/32').containsIP(ip('2001:dc8::1'))", "false")]
    [InlineData("cidr('2001:db8::/32').containsIP('2001:db8::1')", "true")]
    [InlineData("cidr('2001:db8::/32').containsIP('2001:dc8::1')", "false")]
    [InlineData("cidr('2001:db8::/32').containsCIDR(cidr('2001:db8::/33'))", "true")]
    [InlineData("cidr('2001:db8::/32').containsCIDR(cidr('2001:db8::/31'))", "false")]
    [InlineData("cidr('2001:db8::/32').containsCIDR('2001:db8::/33')", "true")]
    [InlineData("cidr('2001:db8::/32').containsCIDR('2001:db8::/31')", "false")]
    [InlineData("cidr('2001:db8::/32').ip() == ip('2001:db8::')", "true")]
    [InlineData("cidr('2001:db8::/32').masked() == cidr('2001:db8::/32')", "true")]
    [InlineData("cidr('2001:db8:1::/32').masked() == cidr('2001:db8::/32')", "true")]
    [InlineData("cidr('2001:db8::/32').prefixLength()", "32")]
    [InlineData("string(cidr('192.168.0.0/24'))", "\"192.168.0.0/24\"")]
    [InlineData("type(cidr('192.168.0.0/24')) == net.CIDR", "true")]
    [InlineData("cidr('10.0.0.0/8').containsIP(ip('::1'))", "false")]
    [InlineData("isCIDR('10.0.0.0/8')", "true")]
    [InlineData("isCIDR('10.0.0.0/33')", "false")]
    [InlineData("isCIDR('10.0.0.0/08')", "false")]
    [InlineData("isCIDR('10.0.0.0')", "false")]
    public void CIDR(string expr, string expected) => Assert.Equal(expected, Result(expr));

    [Theory]
    [InlineData("cidr('192.168.0.0/')", "error: network address parse error during conversion from string: network address parse error during conversion from string: netip.ParsePrefix(\"192.168.0.0/\"): bad bits after slash: \"\"")]
    [InlineData("cidr('2001:db8::/')", "error: network address parse error during conversion from string: network address parse error during conversion from string: netip.ParsePrefix(\"2001:db8::/\"): bad bits after slash: \"\"")]
    [InlineData("cidr('10.0.0.0/33')", "error: network address parse error during conversion from string: network address parse error during conversion from string: netip.ParsePrefix(\"10.0.0.0/33\"): prefix length out of range")]
    [InlineData("cidr('10.0.0.0/8').containsIP('x')", "error: IP Address \"x\" parse error during conversion from string: ParseAddr(\"x\"): unable to parse IP")]
    public void CIDRErrors(string expr, string expected) => Assert.Equal(expected, Result(expr));

    [Fact]
    public void NetTypesAreTypeChecked()
    {
        Assert.Contains("found no matching overload for 'isIP' applied to '(net.CIDR)'", CompileError("isIP(cidr('192.168.0.0/24'))"));
        Assert.Equal("net.IP", CelEnvironment.Kubernetes().Compile("cidr('10.0.0.0/8').ip()").ResultType.Name);
        Assert.Throws<CelCompileException>(() => new CelEnvironment().Compile("type(1) == net.IP"));
    }

    // urls.go doc comments (kubernetes-1.33.0); Go's net/url parsing
    [Theory]
    [InlineData("isURL('https://user:pass@example.com:80/path?query=val#fragment')", "true")]
    [InlineData("isURL('/absolute-path')", "true")]
    [InlineData("isURL('https://a:b:c/')", "false")]
    [InlineData("isURL('../relative-path')", "false")]
    [InlineData("url('/path').getScheme()", "\"\"")]
    [InlineData("url('https://example.com/').getScheme()", "\"https\"")]
    [InlineData("url('HTTPS://example.com/').getScheme()", "\"https\"")]
    [InlineData("url('https://example.com:80/').getHost()", "\"example.com:80\"")]
    [InlineData("url('https://example.com/').getHost()", "\"example.com\"")]
    [InlineData("url('https://[::1]:80/').getHost()", "\"[::1]:80\"")]
    [InlineData("url('https://[::1]/').getHost()", "\"[::1]\"")]
    [InlineData("url('/path').getHost()", "\"\"")]
    [InlineData("url('https://example.com:80/').getHostname()", "\"example.com\"")]
    [InlineData("url('https://127.0.0.1:80/').getHostname()", "\"127.0.0.1\"")]
    [InlineData("url('https://[::1]:80/').getHostname()", "\"::1\"")]
    [InlineData("url('/path').getHostname()", "\"\"")]
    [InlineData("url('https://example.com:80/').getPort()", "\"80\"")]
    [InlineData("url('https://example.com/').getPort()", "\"\"")]
    [InlineData("url('/path').getPort()", "\"\"")]
    [InlineData("url('https://example.com/path').getEscapedPath()", "\"/path\"")]
    [InlineData("url('https://example.com/path with spaces/').getEscapedPath()", "\"/path%20with%20spaces/\"")]
    [InlineData("url('https://example.com/a%2Fb!c').getEscapedPath()", "\"/a%2Fb!c\"")]
    [InlineData("url('https://example.com').getEscapedPath()", "\"\"")]
    [InlineData("url('https://example.com/path?k1=a&k2=b&k2=c').getQuery() == {'k1': ['a'], 'k2': ['b', 'c']}", "true")]
    [InlineData("url('https://example.com/path?key with spaces=value with spaces').getQuery() == {'key with spaces': ['value with spaces']}", "true")]
    [InlineData("url('https://example.com/path?a=1+2&b=%41&c;d=1').getQuery() == {'a': ['1 2'], 'b': ['A']}", "true")]
    [InlineData("url('https://example.com/path?').getQuery()", "{}")]
    [InlineData("url('https://example.com/path').getQuery()", "{}")]
    [InlineData("url('https://example.com/path#frag').getEscapedPath()", "\"/path\"")]
    [InlineData("url('https://example.com/a') == url('https://example.com/a')", "true")]
    [InlineData("url('https://example.com/a') == url('https://example.com/b')", "false")]
    [InlineData("type(url('/a')) == kubernetes.URL && type(quantity('1')) == kubernetes.Quantity", "true")]
    public void URLs(string expr, string expected) => Assert.Equal(expected, Result(expr));

    [Theory]
    [InlineData("url('https://a:b:c/')", "error: URL parse error during conversion from string: parse \"https://a:b:c/\": invalid port \":c\" after host")]
    [InlineData("url('../relative-path')", "error: URL parse error during conversion from string: parse \"../relative-path\": invalid URI for request")]
    [InlineData("url('')", "error: URL parse error during conversion from string: parse \"\": empty url")]
    [InlineData("url(':foo')", "error: URL parse error during conversion from string: parse \":foo\": missing protocol scheme")]
    [InlineData("url('https://exa mple.com/')", "error: URL parse error during conversion from string: parse \"https://exa mple.com/\": invalid character \" \" in host name")]
    [InlineData("url('/a%zz')", "error: URL parse error during conversion from string: parse \"/a%zz\": invalid URL escape \"%zz\"")]
    [InlineData("url('https://[::1/')", "error: URL parse error during conversion from string: parse \"https://[::1/\": missing ']' in host")]
    public void URLErrors(string expr, string expected) => Assert.Equal(expected, Result(expr));

    const string LabelErr = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    const string SubdomainErr = @"a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    const string Dns1035Err = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
    const string QNameErr = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

    // format_test.go (kubernetes-1.33.0): "none" is optional.none(), otherwise the single message
    [Theory]
    [InlineData("format.dns1123Label().validate('my-label-name')", null)]
    [InlineData("format.dns1123Subdomain().validate('apiextensions.k8s.io')", null)]
    [InlineData("format.qualifiedName().validate('apiextensions.k8s.io/v1beta1')", null)]
    [InlineData("format.dns1123LabelPrefix().validate('my-label-prefix-')", null)]
    [InlineData("format.dns1123SubdomainPrefix().validate('mysubdomain.prefix.-')", null)]
    [InlineData("format.dns1035LabelPrefix().validate('my-label-prefix-')", null)]
    [InlineData("format.uri().validate('http://example.com')", null)]
    [InlineData("format.uuid().validate('123e4567-e89b-12d3-a456-426614174000')", null)]
    [InlineData("format.byte().validate('aGVsbG8=')", null)]
    [InlineData("format.date().validate('2021-01-01')", null)]
    [InlineData("format.datetime().validate('2021-01-01T00:00:00Z')", null)]
    [InlineData("format.dns1123Label().validate('contains a space')", LabelErr)]
    [InlineData("format.dns1123Subdomain().validate('contains a space')", SubdomainErr)]
    [InlineData("format.dns1035Label().validate('contains a space')", Dns1035Err)]
    [InlineData("format.qualifiedName().validate('contains a space')", QNameErr)]
    [InlineData("format.dns1123LabelPrefix().validate('contains a space-')", LabelErr)]
    [InlineData("format.dns1123SubdomainPrefix().validate('contains a space-')", SubdomainErr)]
    [InlineData("format.dns1035LabelPrefix().validate('contains a space-')", Dns1035Err)]
    [InlineData("format.dns1123Subdomain().validate('example.com')", null)]
    [InlineData("format.dns1035Label().validate('my-label-name')", null)]
    [InlineData("format.qualifiedName().validate('my.name')", null)]
    [InlineData("format.byte().validate('aGVsbG8')", "invalid base64")]
    [InlineData("format.date().validate('2020-01-32')", "invalid date")]
    [InlineData("format.datetime().validate('2020-01-32T00:00:00Z')", "invalid datetime")]
    // beyond the upstream table
    [InlineData("format.dns1123Label().validate('a.b')", "must not contain dots")]
    [InlineData("format.labelValue().validate('')", null)]
    [InlineData("format.uuid().validate('123e4567-e89b-12d3-a456-42661417400')", "does not match the UUID format")]
    [InlineData("format.uri().validate('../x')", "parse \"../x\": invalid URI for request")]
    [InlineData("format.date().validate('2021-02-29')", "invalid date")]
    [InlineData("format.datetime().validate('2021-01-01T24:00:00Z')", "invalid datetime")]
    [InlineData("format.named('dns1123Label').value().validate('Upper')", LabelErr)]
    public void Formats(string expr, string? message)
    {
        var v = Eval(expr);
        var opt = Assert.IsType<CelOptional>(v);
        if (message is null) Assert.False(opt.HasValue);
        else Assert.Equal("[" + Format(message) + "]", opt.Value!.ToString());
    }

    static string Format(string s) => new CelString(s).ToString()!;

    [Theory]
    [InlineData("format.named('unknown').hasValue()", "false")]
    [InlineData("format.named('uuid').hasValue()", "true")]
    [InlineData("format.named('uuid').value() == format.uuid()", "true")]
    [InlineData("format.dns1123Label().validate('x-').orValue([]).size()", "1")]
    public void NamedFormats(string expr, string expected) => Assert.Equal(expected, Result(expr));

    [Fact]
    public void FormatsAreTypeChecked()
    {
        Assert.Equal("optional_type(list(string))", CelEnvironment.Kubernetes().Compile("format.uuid().validate('x')").ResultType.ToString());
        Assert.Contains("undeclared reference to 'format'", CompileError("format.nope().validate('x')"));
    }

    [Fact]
    public void LibrariesWorkOverBoundObjects()
    {
        var spec = CelType.Object("Object.spec", new Dictionary<string, CelType>
        {
            ["memory"] = CelType.String, ["endpoint"] = CelType.String, ["cidrs"] = CelType.ListOf(CelType.String),
        });
        var self = CelType.Object("Object", new Dictionary<string, CelType> { ["spec"] = spec });
        var env = CelEnvironment.Kubernetes().DeclareVariable("self", self);
        var json = System.Text.Json.Nodes.JsonNode.Parse("""{"spec": {"memory": "1536Mi", "endpoint": "https://10.0.0.1:8443/x", "cidrs": ["10.0.0.0/8"]}}""");
        var act = new Activation().Set("self", CelJson.FromJson(json, self));
        Assert.Equal("true", env.Compile("quantity(self.spec.memory).isLessThan(quantity('2Gi'))").Evaluate(act).ToString());
        Assert.Equal("true", env.Compile("self.spec.cidrs.all(c, cidr(c).containsIP(url(self.spec.endpoint).getHostname()))").Evaluate(act).ToString());
        Assert.Equal("\"8443\"", env.Compile("url(self.spec.endpoint).getPort()").Evaluate(act).ToString());
    }

    static CelValue EvalSemver(string expr) =>
        KubernetesLibraries.AddSemver(CelEnvironment.Kubernetes()).Compile(expr).Evaluate(Activation.Empty);

    // semver_test.go (kubernetes-1.33.0), library version 1
    [Theory]
    [InlineData("semver('1.2.3') == semver('1.2.3')", "true")]
    [InlineData("isSemver('1.2.3-beta.1+build.1')", "true")]
    [InlineData("isSemver('')", "false")]
    [InlineData("isSemver('v1.0.0')", "false")]
    [InlineData("isSemver(' 1.0.0')", "false")]
    [InlineData("isSemver('1. 0.0')", "false")]
    [InlineData("isSemver('1.0.0 ')", "false")]
    [InlineData("isSemver('01.01.01')", "false")]
    [InlineData("isSemver('1')", "false")]
    [InlineData("isSemver('1.1')", "false")]
    [InlineData("isSemver('', true)", "false")]
    [InlineData("isSemver(' 1.0.0', true)", "false")]
    [InlineData("isSemver('1. 0.0', true)", "false")]
    [InlineData("isSemver('1.0.0 ', true)", "false")]
    [InlineData("isSemver('v1.0.0', true)", "true")]
    [InlineData("isSemver('01.01.01', true)", "true")]
    [InlineData("isSemver('1', true)", "true")]
    [InlineData("isSemver('1.1', true)", "true")]
    [InlineData("semver('v01.01', true) == semver('1.1.0')", "true")]
    [InlineData("semver('1.2.3') == semver('1.0.0')", "false")]
    [InlineData("semver('1.0.0').isLessThan(semver('1.2.3'))", "true")]
    [InlineData("semver('1.0.0').isLessThan(semver('1.0.0'))", "false")]
    [InlineData("semver('1.2.3').isGreaterThan(semver('1.0.0'))", "true")]
    [InlineData("semver('1.0.0').isGreaterThan(semver('1.0.0'))", "false")]
    [InlineData("semver('1.2.3').compareTo(semver('1.2.3'))", "0")]
    [InlineData("semver('1.0.0').compareTo(semver('1.2.3'))", "-1")]
    [InlineData("semver('1.2.3').compareTo(semver('1.0.0'))", "1")]
    [InlineData("semver('1.2.3').major()", "1")]
    [InlineData("semver('1.2.3').minor()", "2")]
    [InlineData("semver('1.2.3').patch()", "3")]
    // semver precedence: pre-releases before the release, numeric identifiers below alphanumeric ones, build ignored
    [InlineData("semver('1.0.0-alpha').isLessThan(semver('1.0.0'))", "true")]
    [InlineData("semver('1.0.0-alpha.1').isLessThan(semver('1.0.0-alpha.beta'))", "true")]
    [InlineData("semver('1.0.0-alpha').isLessThan(semver('1.0.0-alpha.1'))", "true")]
    [InlineData("semver('1.0.0+a') == semver('1.0.0+b')", "true")]
    [InlineData("semver('v01.01.1-x', true) == semver('1.1.1-x')", "true")]
    [InlineData("quantity('1').isLessThan(quantity('2')) && semver('1.0.0').isLessThan(semver('2.0.0'))", "true")]
    public void Semver(string expr, string expected) => Assert.Equal(expected, EvalSemver(expr).ToString());

    [Theory]
    [InlineData("semver('v1.0')", "error: No Major.Minor.Patch elements found")]
    [InlineData("semver('')", "error: Version string empty")]
    [InlineData("semver('01.0.1')", "error: Major number must not contain leading zeroes \"01\"")]
    [InlineData("semver('0.0NaN.1')", "error: Invalid character(s) found in minor number \"0NaN\"")]
    [InlineData("semver('0.0.1-01')", "error: Numeric PreRelease version must not contain leading zeroes \"01\"")]
    [InlineData("semver('0.0.1-')", "error: Prerelease is empty")]
    [InlineData("semver('0.0.1+@')", "error: Invalid character(s) found in build meta data \"@\"")]
    [InlineData("semver('1.1-x', true)", "error: short version cannot contain PreRelease/Build meta data")]
    public void SemverErrors(string expr, string expected) => Assert.Equal(expected, EvalSemver(expr).ToString());

    [Fact]
    public void SemverIsNotInTheDefaultEnvironment()
    {
        // 1.33 compiles new expressions at the 1.32 compatibility version, which has no semver library
        Assert.Contains("undeclared reference to 'semver'", CompileError("semver('1.0.0').major() == 1"));
        Assert.Contains("found no matching overload for 'isSemver' applied to '(list(int))'",
            Assert.Throws<CelCompileException>(() => KubernetesLibraries.AddSemver(CelEnvironment.Kubernetes()).Compile("isSemver([1, 2, 3])")).Message);
    }
}
