// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title Stone Panther ledger
/// @notice The append-only ledger of endorsed facts between carriers. Every transaction kind
/// has its own entry point, and each entry point checks the endorsement policy itself: it
/// recomputes the EIP-712 digest the parties signed (the same digest as the embedded ledger:
/// `PantherTransaction(string txType,uint16 version,bytes32 relation,bytes32 payloadHash,
/// bytes32 merkleRoot)`, payloadHash = sha256 of the canonical JSON payload), recovers every
/// signature with `ecrecover` (low-s only) and checks the signers against the party and
/// relation registry that the ledger's own PartyRegistered and RelationAgreed entries built.
/// Anyone may relay a transaction; only the signatures give it authority.
contract PantherLedger {
    // The order is TxType's order in panther/ledger/transactions.py.
    enum Kind {
        PartyRegistered,
        RelationAgreed,
        InventoryReported,
        MatchRecorded,
        MatchEndorsed,
        ReviewActionTaken,
        DisputeOpened,
        DisputeResolved,
        StatementIssued,
        StatementAgreed,
        PaymentSettled,
        NettingCertified,
        ReviewAgreed,
        DisputeStatusChanged
    }

    struct Relation {
        bytes32 supplier; // keccak256 of the party id
        bytes32 customer;
    }

    error InvalidTransaction(string detail);
    error InvalidSignature(uint256 index, string detail);
    error MalleableSignature(uint256 index);
    error PolicyViolation(string detail);
    error UnknownParty(string identifier);
    error AlreadyRecorded(uint256 seq);

    /// One event per accepted transaction: everything needed to rebuild and verify the entry.
    event Recorded(
        uint256 indexed seq,
        uint8 indexed kind,
        bytes32 indexed relationHash,
        bytes32 entryHash,
        bytes32 prevHash,
        uint64 timestamp,
        uint16 version,
        string relation,
        bytes payload,
        bytes32 payloadHash,
        bytes32 merkleRoot,
        address[] signers,
        bytes[] signatures
    );

    bytes32 private constant DOMAIN_TYPEHASH = keccak256(
        "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    );
    bytes32 private constant TX_TYPEHASH = keccak256(
        "PantherTransaction(string txType,uint16 version,bytes32 relation,bytes32 payloadHash,"
        "bytes32 merkleRoot)"
    );
    // secp256k1 order / 2: EIP-2 accepts only s <= n/2, so a signature has one valid form.
    uint256 private constant HALF_N =
        0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    address public operator;
    uint256 public count;
    bytes32 public head;
    mapping(bytes32 => address) public partyAddress; // keccak256(party id) => signing address
    mapping(bytes32 => Relation) private _relations; // keccak256(relation id) => parties
    mapping(bytes32 => uint256) public seqPlusOne; // keccak256(digest, signatures) => seq + 1

    // ---------------------------------------------------------------- entry points

    function registerParty(
        uint16 version,
        string calldata relation,
        bytes calldata payload,
        bytes32 merkleRoot,
        address[] calldata signers,
        bytes[] calldata signatures
    ) external returns (uint256) {
        Kind kind = Kind.PartyRegistered;
        bytes32 digest = _verifySignatures(kind, version, relation, payload, merkleRoot, signers, signatures);
        bytes memory json = payload;
        address account = _parseAddress(_stringField(json, "address"));
        bytes32 partyKey = keccak256(_stringField(json, "partyId"));
        bytes32 role = keccak256(_stringField(json, "role"));
        bool isOperator = role == keccak256("operator");
        if (!isOperator && role != keccak256("carrier")) {
            revert InvalidTransaction("role must be 'operator' or 'carrier'");
        }
        if (operator == address(0)) {
            if (!isOperator) revert PolicyViolation("no operator yet");
            _requireOne(signers, account, "the operator registers itself");
            operator = account;
        } else {
            if (isOperator) revert PolicyViolation("the ledger already has an operator");
            if (partyAddress[partyKey] != address(0)) {
                revert InvalidTransaction("party is already registered");
            }
            _requireOne(signers, operator, "the operator registers parties");
        }
        partyAddress[partyKey] = account;
        return _append(kind, digest, version, relation, payload, merkleRoot, signers, signatures);
    }

    function agreeRelation(
        uint16 version,
        string calldata relation,
        bytes calldata payload,
        bytes32 merkleRoot,
        address[] calldata signers,
        bytes[] calldata signatures
    ) external returns (uint256) {
        Kind kind = Kind.RelationAgreed;
        bytes32 digest = _verifySignatures(kind, version, relation, payload, merkleRoot, signers, signatures);
        bytes memory json = payload;
        if (keccak256(_stringField(json, "relationId")) != keccak256(bytes(relation))) {
            revert InvalidTransaction("relation differs from payload relationId");
        }
        bytes memory supplierId = _stringField(json, "supplier");
        bytes memory customerId = _stringField(json, "customer");
        bytes32 supplier = keccak256(supplierId);
        bytes32 customer = keccak256(customerId);
        if (supplier == customer) revert InvalidTransaction("supplier and customer must differ");
        Relation storage known = _relations[keccak256(bytes(relation))];
        if (known.supplier != bytes32(0) && (known.supplier != supplier || known.customer != customer)) {
            revert InvalidTransaction("a relation's parties cannot change");
        }
        address supplierAddress = partyAddress[supplier];
        address customerAddress = partyAddress[customer];
        if (supplierAddress == address(0)) revert UnknownParty(string(supplierId));
        if (customerAddress == address(0)) revert UnknownParty(string(customerId));
        _requireBoth(signers, supplierAddress, customerAddress, "both parties agree a relation");
        known.supplier = supplier;
        known.customer = customer;
        return _append(kind, digest, version, relation, payload, merkleRoot, signers, signatures);
    }

    function reportInventory(
        uint16 version,
        string calldata relation,
        bytes calldata payload,
        bytes32 merkleRoot,
        address[] calldata signers,
        bytes[] calldata signatures
    ) external returns (uint256) {
        return _oneParty(Kind.InventoryReported, version, relation, payload, merkleRoot, signers, signatures);
    }

    function recordMatch(
        uint16 version,
        string calldata relation,
        bytes calldata payload,
        bytes32 merkleRoot,
        address[] calldata signers,
        bytes[] calldata signatures
    ) external returns (uint256) {
        return _operatorSigned(Kind.MatchRecorded, version, relation, payload, merkleRoot, signers, signatures);
    }

    function endorseMatch(
        uint16 version,
        string calldata relation,
        bytes calldata payload,
        bytes32 merkleRoot,
        address[] calldata signers,
        bytes[] calldata signatures
    ) external returns (uint256) {
        return _bothParties(Kind.MatchEndorsed, version, relation, payload, merkleRoot, signers, signatures);
    }

    function takeReviewAction(
        uint16 version,
        string calldata relation,
        bytes calldata payload,
        bytes32 merkleRoot,
        address[] calldata signers,
        bytes[] calldata signatures
    ) external returns (uint256) {
        Kind kind = Kind.ReviewActionTaken;
        bytes32 digest = _verifySignatures(kind, version, relation, payload, merkleRoot, signers, signatures);
        (address supplier, address customer) = _relationParties(relation);
        // One side acts, or both sign an agreed action.
        if (signers.length == 1) {
            if (signers[0] != supplier && signers[0] != customer) revert PolicyViolation("party signers");
        } else {
            _requireBoth(signers, supplier, customer, "party signers");
        }
        return _append(kind, digest, version, relation, payload, merkleRoot, signers, signatures);
    }

    function openDispute(
        uint16 version,
        string calldata relation,
        bytes calldata payload,
        bytes32 merkleRoot,
        address[] calldata signers,
        bytes[] calldata signatures
    ) external returns (uint256) {
        return _oneParty(Kind.DisputeOpened, version, relation, payload, merkleRoot, signers, signatures);
    }

    function resolveDispute(
        uint16 version,
        string calldata relation,
        bytes calldata payload,
        bytes32 merkleRoot,
        address[] calldata signers,
        bytes[] calldata signatures
    ) external returns (uint256) {
        return _bothParties(Kind.DisputeResolved, version, relation, payload, merkleRoot, signers, signatures);
    }

    function issueStatement(
        uint16 version,
        string calldata relation,
        bytes calldata payload,
        bytes32 merkleRoot,
        address[] calldata signers,
        bytes[] calldata signatures
    ) external returns (uint256) {
        Kind kind = Kind.StatementIssued;
        bytes32 digest = _verifySignatures(kind, version, relation, payload, merkleRoot, signers, signatures);
        (address supplier, ) = _relationParties(relation);
        _requireOne(signers, supplier, "the supplier issues the statement");
        return _append(kind, digest, version, relation, payload, merkleRoot, signers, signatures);
    }

    function agreeStatement(
        uint16 version,
        string calldata relation,
        bytes calldata payload,
        bytes32 merkleRoot,
        address[] calldata signers,
        bytes[] calldata signatures
    ) external returns (uint256) {
        return _bothParties(Kind.StatementAgreed, version, relation, payload, merkleRoot, signers, signatures);
    }

    function settlePayment(
        uint16 version,
        string calldata relation,
        bytes calldata payload,
        bytes32 merkleRoot,
        address[] calldata signers,
        bytes[] calldata signatures
    ) external returns (uint256) {
        return _bothParties(Kind.PaymentSettled, version, relation, payload, merkleRoot, signers, signatures);
    }

    function certifyNetting(
        uint16 version,
        string calldata relation,
        bytes calldata payload,
        bytes32 merkleRoot,
        address[] calldata signers,
        bytes[] calldata signatures
    ) external returns (uint256) {
        return _operatorSigned(Kind.NettingCertified, version, relation, payload, merkleRoot, signers, signatures);
    }

    function agreeReview(
        uint16 version,
        string calldata relation,
        bytes calldata payload,
        bytes32 merkleRoot,
        address[] calldata signers,
        bytes[] calldata signatures
    ) external returns (uint256) {
        return _bothParties(Kind.ReviewAgreed, version, relation, payload, merkleRoot, signers, signatures);
    }

    function changeDisputeStatus(
        uint16 version,
        string calldata relation,
        bytes calldata payload,
        bytes32 merkleRoot,
        address[] calldata signers,
        bytes[] calldata signatures
    ) external returns (uint256) {
        return _oneParty(Kind.DisputeStatusChanged, version, relation, payload, merkleRoot, signers, signatures);
    }

    // ---------------------------------------------------------------- views

    /// The EIP-712 domain separator this contract checks signatures against.
    function domainSeparator() public view returns (bytes32) {
        return keccak256(
            abi.encode(
                DOMAIN_TYPEHASH,
                keccak256("StonePanther"),
                keccak256("1"),
                block.chainid,
                address(this)
            )
        );
    }

    /// The digest the parties sign for a transaction (the embedded ledger computes the same).
    function digestOf(
        Kind kind,
        uint16 version,
        string calldata relation,
        bytes calldata payload,
        bytes32 merkleRoot
    ) public view returns (bytes32) {
        bytes32 relationWord = bytes(relation).length == 0 ? bytes32(0) : keccak256(bytes(relation));
        bytes32 structHash = keccak256(
            abi.encode(
                TX_TYPEHASH,
                keccak256(_kindName(kind)),
                uint256(version),
                relationWord,
                sha256(payload),
                merkleRoot
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator(), structHash));
    }

    function relationParties(string calldata relation) external view returns (bytes32, bytes32) {
        Relation storage r = _relations[keccak256(bytes(relation))];
        return (r.supplier, r.customer);
    }

    // ---------------------------------------------------------------- policy helpers

    function _oneParty(
        Kind kind,
        uint16 version,
        string calldata relation,
        bytes calldata payload,
        bytes32 merkleRoot,
        address[] calldata signers,
        bytes[] calldata signatures
    ) private returns (uint256) {
        bytes32 digest = _verifySignatures(kind, version, relation, payload, merkleRoot, signers, signatures);
        (address supplier, address customer) = _relationParties(relation);
        if (signers.length != 1 || (signers[0] != supplier && signers[0] != customer)) {
            revert PolicyViolation("one party");
        }
        return _append(kind, digest, version, relation, payload, merkleRoot, signers, signatures);
    }

    function _bothParties(
        Kind kind,
        uint16 version,
        string calldata relation,
        bytes calldata payload,
        bytes32 merkleRoot,
        address[] calldata signers,
        bytes[] calldata signatures
    ) private returns (uint256) {
        bytes32 digest = _verifySignatures(kind, version, relation, payload, merkleRoot, signers, signatures);
        (address supplier, address customer) = _relationParties(relation);
        _requireBoth(signers, supplier, customer, "both parties must sign");
        return _append(kind, digest, version, relation, payload, merkleRoot, signers, signatures);
    }

    function _operatorSigned(
        Kind kind,
        uint16 version,
        string calldata relation,
        bytes calldata payload,
        bytes32 merkleRoot,
        address[] calldata signers,
        bytes[] calldata signatures
    ) private returns (uint256) {
        bytes32 digest = _verifySignatures(kind, version, relation, payload, merkleRoot, signers, signatures);
        if (operator == address(0)) revert UnknownParty("operator");
        _requireOne(signers, operator, "the operator signs this");
        return _append(kind, digest, version, relation, payload, merkleRoot, signers, signatures);
    }

    function _relationParties(string calldata relation) private view returns (address, address) {
        if (bytes(relation).length == 0) revert InvalidTransaction("this transaction type needs a relation");
        Relation storage r = _relations[keccak256(bytes(relation))];
        if (r.supplier == bytes32(0)) revert UnknownParty(relation);
        return (partyAddress[r.supplier], partyAddress[r.customer]);
    }

    function _requireOne(address[] calldata signers, address expected, string memory detail) private pure {
        if (signers.length != 1 || signers[0] != expected) revert PolicyViolation(detail);
    }

    function _requireBoth(address[] calldata signers, address a, address b, string memory detail) private pure {
        if (signers.length != 2 || a == b) revert PolicyViolation(detail);
        bool inOrder = signers[0] == a && signers[1] == b;
        bool swapped = signers[0] == b && signers[1] == a;
        if (!inOrder && !swapped) revert PolicyViolation(detail);
    }

    // ---------------------------------------------------------------- signatures and the chain

    function _verifySignatures(
        Kind kind,
        uint16 version,
        string calldata relation,
        bytes calldata payload,
        bytes32 merkleRoot,
        address[] calldata signers,
        bytes[] calldata signatures
    ) private view returns (bytes32 digest) {
        if (signers.length == 0) revert InvalidSignature(0, "unsigned transaction");
        if (signers.length != signatures.length) {
            revert InvalidTransaction("signers and signatures differ in number");
        }
        digest = digestOf(kind, version, relation, payload, merkleRoot);
        for (uint256 i = 0; i < signatures.length; i++) {
            if (_recover(digest, signatures[i], i) != signers[i]) {
                revert InvalidSignature(i, "signature recovers to another address");
            }
        }
    }

    function _recover(bytes32 digest, bytes calldata sig, uint256 index) private pure returns (address) {
        if (sig.length != 65) revert InvalidSignature(index, "signature must be 65 bytes");
        bytes32 r = bytes32(sig[0:32]);
        bytes32 s = bytes32(sig[32:64]);
        uint8 v = uint8(sig[64]);
        if (v != 27 && v != 28) revert InvalidSignature(index, "v must be 27 or 28");
        if (uint256(s) > HALF_N) revert MalleableSignature(index);
        if (r == bytes32(0) || s == bytes32(0)) revert InvalidSignature(index, "r or s out of range");
        address signer = ecrecover(digest, v, r, s);
        if (signer == address(0)) revert InvalidSignature(index, "signature does not recover");
        return signer;
    }

    function _append(
        Kind kind,
        bytes32 digest,
        uint16 version,
        string calldata relation,
        bytes calldata payload,
        bytes32 merkleRoot,
        address[] calldata signers,
        bytes[] calldata signatures
    ) private returns (uint256 seq) {
        bytes memory all;
        for (uint256 i = 0; i < signatures.length; i++) {
            all = bytes.concat(all, signatures[i]);
        }
        bytes32 signaturesHash = keccak256(all);
        bytes32 key = keccak256(abi.encodePacked(digest, signaturesHash));
        if (seqPlusOne[key] != 0) revert AlreadyRecorded(seqPlusOne[key] - 1);
        seq = count;
        bytes32 prevHash = head;
        bytes32 entryHash = keccak256(
            abi.encodePacked(prevHash, seq, digest, signaturesHash, uint64(block.timestamp))
        );
        head = entryHash;
        count = seq + 1;
        seqPlusOne[key] = seq + 1;
        _emitRecorded(seq, kind, entryHash, prevHash, version, relation, payload, merkleRoot, signers, signatures);
    }

    function _emitRecorded(
        uint256 seq,
        Kind kind,
        bytes32 entryHash,
        bytes32 prevHash,
        uint16 version,
        string calldata relation,
        bytes calldata payload,
        bytes32 merkleRoot,
        address[] calldata signers,
        bytes[] calldata signatures
    ) private {
        emit Recorded(
            seq,
            uint8(kind),
            bytes(relation).length == 0 ? bytes32(0) : keccak256(bytes(relation)),
            entryHash,
            prevHash,
            uint64(block.timestamp),
            version,
            relation,
            payload,
            sha256(payload),
            merkleRoot,
            signers,
            signatures
        );
    }

    function _kindName(Kind kind) private pure returns (bytes memory) {
        if (kind == Kind.PartyRegistered) return "PartyRegistered";
        if (kind == Kind.RelationAgreed) return "RelationAgreed";
        if (kind == Kind.InventoryReported) return "InventoryReported";
        if (kind == Kind.MatchRecorded) return "MatchRecorded";
        if (kind == Kind.MatchEndorsed) return "MatchEndorsed";
        if (kind == Kind.ReviewActionTaken) return "ReviewActionTaken";
        if (kind == Kind.DisputeOpened) return "DisputeOpened";
        if (kind == Kind.DisputeResolved) return "DisputeResolved";
        if (kind == Kind.StatementIssued) return "StatementIssued";
        if (kind == Kind.StatementAgreed) return "StatementAgreed";
        if (kind == Kind.PaymentSettled) return "PaymentSettled";
        if (kind == Kind.NettingCertified) return "NettingCertified";
        if (kind == Kind.ReviewAgreed) return "ReviewAgreed";
        return "DisputeStatusChanged";
    }

    // ---------------------------------------------------------------- canonical JSON reading

    /// The raw (still escaped) value of a top-level string field of a canonical JSON object.
    function _stringField(bytes memory json, bytes memory key) private pure returns (bytes memory) {
        uint256 n = json.length;
        if (n < 2 || json[0] != "{") revert InvalidTransaction("payload is not a JSON object");
        uint256 depth = 0;
        bool inString = false;
        bool expectKey = false;
        for (uint256 i = 0; i < n; i++) {
            bytes1 c = json[i];
            if (inString) {
                if (c == "\\") {
                    i++;
                } else if (c == '"') {
                    inString = false;
                }
                continue;
            }
            if (c == '"') {
                if (depth == 1 && expectKey) {
                    uint256 end = i + 1 + key.length;
                    if (end + 2 < n && json[end] == '"' && json[end + 1] == ":" && _equalAt(json, i + 1, key)) {
                        if (json[end + 2] != '"') revert InvalidTransaction("field must be a string");
                        uint256 start = end + 3;
                        uint256 stop = start;
                        while (stop < n && json[stop] != '"') {
                            if (json[stop] == "\\") stop++;
                            stop++;
                        }
                        if (stop >= n) revert InvalidTransaction("unterminated string");
                        bytes memory value = new bytes(stop - start);
                        for (uint256 k = 0; k < value.length; k++) value[k] = json[start + k];
                        return value;
                    }
                    expectKey = false;
                }
                inString = true;
            } else if (c == "{" || c == "[") {
                depth++;
                if (depth == 1) expectKey = c == "{";
            } else if (c == "}" || c == "]") {
                depth--;
            } else if (c == "," && depth == 1) {
                expectKey = true;
            }
        }
        revert InvalidTransaction(string.concat("payload has no field ", string(key)));
    }

    function _equalAt(bytes memory data, uint256 offset, bytes memory key) private pure returns (bool) {
        for (uint256 k = 0; k < key.length; k++) {
            if (data[offset + k] != key[k]) return false;
        }
        return true;
    }

    function _parseAddress(bytes memory text) private pure returns (address) {
        if (text.length != 42 || text[0] != "0" || (text[1] != "x" && text[1] != "X")) {
            revert InvalidTransaction("address must be 0x and 40 hex digits");
        }
        uint160 value = 0;
        for (uint256 i = 2; i < 42; i++) {
            uint8 c = uint8(text[i]);
            uint8 digit;
            if (c >= 48 && c <= 57) digit = c - 48;
            else if (c >= 97 && c <= 102) digit = c - 87;
            else if (c >= 65 && c <= 70) digit = c - 55;
            else revert InvalidTransaction("address must be 0x and 40 hex digits");
            value = value * 16 + digit;
        }
        if (value == 0) revert InvalidTransaction("address must not be zero");
        return address(value);
    }
}
