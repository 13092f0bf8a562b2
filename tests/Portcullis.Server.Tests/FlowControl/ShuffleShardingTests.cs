using Portcullis.Server.FlowControl;

namespace Portcullis.Server.Tests.FlowControl;

/// <summary>
/// The dealer and the flow hash give the hands and hashes upstream's code gives (the expected values were computed by
/// running k8s.io/apiserver 1.33's shufflesharding.Dealer and apf_controller.go's hashFlowID on the same inputs).
/// </summary>
public sealed class ShuffleShardingTests
{
    [Theory]
    [InlineData(10, 3, 1234UL, new[] { 4, 7, 6 })]
    [InlineData(64, 8, 16045690984503098046UL, new[] { 62, 52, 53, 30, 23, 46, 45, 27 })]
    [InlineData(128, 6, 18446744073709551615UL, new[] { 127, 1, 7, 56, 91, 6 })]
    [InlineData(16, 4, 42UL, new[] { 10, 2, 0, 1 })]
    [InlineData(64, 6, 7UL, new[] { 7, 0, 1, 2, 3, 4 })]
    public void Deal_gives_upstreams_hand(int deck, int hand, ulong hash, int[] expected) =>
        Assert.Equal(expected, new ShuffleShardingDealer(deck, hand).DealIntoHand(hash));

    [Fact]
    public void Every_hand_holds_distinct_cards_of_the_deck()
    {
        var dealer = new ShuffleShardingDealer(128, 6);
        var random = new Random(7);
        for (var i = 0; i < 2000; i++)
        {
            var hand = dealer.DealIntoHand((ulong)random.NextInt64() * 3UL);
            Assert.Equal(6, hand.Distinct().Count());
            Assert.All(hand, c => Assert.InRange(c, 0, 127));
        }
    }

    [Theory]
    [InlineData("global-default", "alice", 17644606172554983095UL)]
    [InlineData("catch-all", "system:anonymous", 10492374483539041965UL)]
    [InlineData("kube-system-service-accounts", "kube-system", 5788695476672829020UL)]
    [InlineData("probes", "", 1490246024787818612UL)]
    public void Flow_hash_is_upstreams_hashFlowID(string schema, string distinguisher, ulong expected) =>
        Assert.Equal(expected, ApfFilter.FlowHash(schema, distinguisher));

    [Theory]
    [InlineData(0, 1, "deckSize 0 or handSize 1 is not positive")]
    [InlineData(4, 5, "handSize 5 is greater than deckSize 4")]
    [InlineData(1 << 27, 1, "deckSize 134217728 is impractically large")]
    [InlineData(1 << 20, 4, "required entropy bits of deckSize 1048576 and handSize 4 is greater than 60")]
    public void Impossible_sizes_are_refused_with_upstreams_message(int deck, int hand, string message) =>
        Assert.Equal(message, Assert.Throws<ArgumentException>(() => new ShuffleShardingDealer(deck, hand)).Message);
}
