namespace Portcullis.Server.FlowControl;

/// <summary>
/// Shuffle sharding (k8s.io/apiserver pkg/util/shufflesharding): deals a hand of <c>handSize</c> distinct cards out of a
/// deck of <c>deckSize</c> from a flow's hash, the same hand upstream's Dealer deals for the same hash, so flows spread
/// over the queues alike and one heavy flow shares at most its hand with another.
/// </summary>
public sealed class ShuffleShardingDealer
{
    /// <summary>shufflesharding.MaxHashBits: a hash gives at most 60 bits of entropy to a deal.</summary>
    public const int MaxHashBits = 60;

    public int DeckSize { get; }
    public int HandSize { get; }

    /// <summary>A dealer, or an exception with upstream's NewDealer message when the sizes cannot be dealt.</summary>
    public ShuffleShardingDealer(int deckSize, int handSize)
    {
        if (deckSize <= 0 || handSize <= 0) throw new ArgumentException($"deckSize {deckSize} or handSize {handSize} is not positive");
        if (handSize > deckSize) throw new ArgumentException($"handSize {handSize} is greater than deckSize {deckSize}");
        if (deckSize > 1 << 26) throw new ArgumentException($"deckSize {deckSize} is impractically large");
        if (RequiredEntropyBits(deckSize, handSize) > MaxHashBits)
            throw new ArgumentException($"required entropy bits of deckSize {deckSize} and handSize {handSize} is greater than {MaxHashBits}");
        DeckSize = deckSize;
        HandSize = handSize;
    }

    /// <summary>RequiredEntropyBits: ceil(log2(deckSize) * handSize).</summary>
    public static int RequiredEntropyBits(int deckSize, int handSize) => (int)Math.Ceiling(Math.Log2(deckSize) * handSize);

    /// <summary>
    /// Deal: the hash read as a mixed-radix number gives, for card i, a remainder modulo (deckSize - i); each remainder
    /// is then shifted past the cards already dealt, so the cards are distinct. Writes <see cref="HandSize"/> cards.
    /// </summary>
    public void Deal(ulong hash, Span<int> hand)
    {
        Span<int> remainders = HandSize <= 64 ? stackalloc int[HandSize] : new int[HandSize];
        for (var i = 0; i < HandSize; i++)
        {
            var radix = (ulong)(DeckSize - i);
            var next = hash / radix;
            remainders[i] = (int)(hash - radix * next);
            hash = next;
        }
        for (var i = 0; i < HandSize; i++)
        {
            var card = remainders[i];
            for (var j = i; j > 0; j--)
                if (card >= remainders[j - 1]) card++;
            hand[i] = card;
        }
    }

    /// <summary>The hand as a new array (tests, diagnostics).</summary>
    public int[] DealIntoHand(ulong hash)
    {
        var hand = new int[HandSize];
        Deal(hash, hand);
        return hand;
    }
}
