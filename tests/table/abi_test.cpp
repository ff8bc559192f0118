// Pins the shared-memory ABI: sizes, alignments and every field offset of the structures that
// cross the process boundary. A change here is an ABI change: bump table::abi_version and update
// docs/shm-abi.md in the same commit.

#include <srtpo/table/abi.hpp>
#include <srtpo/table/doorbell.hpp>
#include <srtpo/table/seqlock.hpp>
#include <srtpo/table/slot.hpp>
#include <srtpo/table/status_region.hpp>

#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <type_traits>

namespace srtpo::table {
namespace {

TEST(Abi, VersionAndMagicsAreReadableBytes) {
    EXPECT_EQ(abi_version, 1u);
    char s[9] = {};
    std::memcpy(s, &sessions_magic, 8); // little-endian host: the file starts with the tag
    EXPECT_STREQ(s, "SRTPOSES");
    std::memcpy(s, &status_magic, 8);
    EXPECT_STREQ(s, "SRTPOSTA");
    EXPECT_EQ(sessions_magic, 0x5345534f50545253ull);
    EXPECT_EQ(status_magic, 0x4154534f50545253ull);
}

TEST(Abi, PerFlowMemoryBudget) {
    // Issue 5: memory per flow <= 512 bytes across both regions.
    EXPECT_EQ(sizeof(session_slot), 448u);
    EXPECT_EQ(sizeof(live_state), 64u);
    EXPECT_EQ(sizeof(session_slot) + sizeof(live_state), 512u);
    EXPECT_EQ(sizeof(hdrext_slot), 160u); // only in tables created with header_ext_keys
}

TEST(Abi, AtomicsAndTrivialCopy) {
    EXPECT_TRUE(std::atomic_ref<uint64_t>::is_always_lock_free);
    EXPECT_TRUE(std::atomic_ref<uint32_t>::is_always_lock_free);
    EXPECT_TRUE(std::is_trivially_copyable_v<slot_data>);
    EXPECT_TRUE(std::is_trivially_copyable_v<session_slot>);
    EXPECT_TRUE(std::is_trivially_copyable_v<hdrext_record>);
    EXPECT_TRUE(std::is_trivially_copyable_v<table_header>);
    EXPECT_TRUE(std::is_trivially_copyable_v<status_header>);
    EXPECT_TRUE(std::is_trivially_copyable_v<live_state>);
    EXPECT_TRUE(std::has_unique_object_representations_v<slot_data>); // no padding bytes anywhere
    EXPECT_TRUE(std::has_unique_object_representations_v<flow_key>);
}

TEST(Abi, SessionSlot) {
    EXPECT_EQ(alignof(session_slot), 64u);
    EXPECT_EQ(offsetof(session_slot, seq), 0u);
    EXPECT_EQ(offsetof(session_slot, words), 8u);
    EXPECT_EQ(slot_payload_words, 55u);
    EXPECT_EQ(sizeof(session_slot) % 64, 0u);
}

TEST(Abi, SlotData) {
    EXPECT_EQ(sizeof(slot_data), 440u);
    EXPECT_EQ(alignof(slot_data), 8u);
    EXPECT_EQ(offsetof(slot_data, generation), 0u);
    EXPECT_EQ(offsetof(slot_data, key), 8u);
    EXPECT_EQ(offsetof(slot_data, key.local), 8u);
    EXPECT_EQ(offsetof(slot_data, key.port), 24u);
    EXPECT_EQ(offsetof(slot_data, key.proto), 26u);
    EXPECT_EQ(offsetof(slot_data, key.reserved), 27u);
    EXPECT_EQ(offsetof(slot_data, state), 28u);
    EXPECT_EQ(offsetof(slot_data, action), 29u);
    EXPECT_EQ(offsetof(slot_data, reserved0), 30u);
    EXPECT_EQ(offsetof(slot_data, reserved1), 31u);
    EXPECT_EQ(offsetof(slot_data, rekey_grace_ms), 32u);
    EXPECT_EQ(offsetof(slot_data, in_peer), 34u);
    EXPECT_EQ(offsetof(slot_data, out_local), 52u);
    EXPECT_EQ(offsetof(slot_data, out_peer), 70u);
    EXPECT_EQ(offsetof(slot_data, in), 88u);
    EXPECT_EQ(offsetof(slot_data, out), 264u);
}

TEST(Abi, SmallTypes) {
    EXPECT_EQ(sizeof(ip_address), 16u);
    EXPECT_EQ(sizeof(endpoint), 18u);
    EXPECT_EQ(offsetof(endpoint, addr), 0u);
    EXPECT_EQ(offsetof(endpoint, port), 16u);
    EXPECT_EQ(sizeof(flow_key), 20u);
    EXPECT_EQ(sizeof(key_material), 66u);
    EXPECT_EQ(offsetof(key_material, k_e), 0u);
    EXPECT_EQ(offsetof(key_material, k_a), 32u);
    EXPECT_EQ(offsetof(key_material, k_s), 52u);
    EXPECT_EQ(sizeof(slot_state), 1u);
    EXPECT_EQ(sizeof(leg_action), 1u);
    EXPECT_EQ(sizeof(flow_proto), 1u);
    // Enumerator values are ABI too.
    EXPECT_EQ(static_cast<int>(slot_state::empty), 0);
    EXPECT_EQ(static_cast<int>(slot_state::active), 1);
    EXPECT_EQ(static_cast<int>(slot_state::retiring), 2);
    EXPECT_EQ(static_cast<int>(leg_action::protect), 1);
    EXPECT_EQ(static_cast<int>(leg_action::unprotect), 2);
    EXPECT_EQ(static_cast<int>(leg_action::transcrypt), 3);
    EXPECT_EQ(static_cast<int>(leg_action::auth_only), 4);
    EXPECT_EQ(static_cast<int>(leg_action::tap), 5);
    EXPECT_EQ(static_cast<int>(flow_proto::rtp), 1);
    EXPECT_EQ(static_cast<int>(flow_proto::rtcp), 2);
    EXPECT_EQ(static_cast<int>(flow_proto::mux), 3);
    EXPECT_EQ(leg_flag::unencrypted_srtp, 0x01);
    EXPECT_EQ(leg_flag::unencrypted_srtcp, 0x02);
    EXPECT_EQ(leg_flag::unauthenticated_srtp, 0x04);
    EXPECT_EQ(leg_flag::cryptex, 0x08);
    EXPECT_EQ(leg_flag::header_ext, 0x10);
}

TEST(Abi, LegCrypto) {
    EXPECT_EQ(sizeof(leg_crypto), 176u);
    EXPECT_EQ(alignof(leg_crypto), 8u);
    EXPECT_EQ(offsetof(leg_crypto, suite), 0u);
    EXPECT_EQ(offsetof(leg_crypto, replay_window), 2u);
    EXPECT_EQ(offsetof(leg_crypto, initial_roc), 4u);
    EXPECT_EQ(offsetof(leg_crypto, lifetime), 8u);
    EXPECT_EQ(offsetof(leg_crypto, initial_srtcp_index), 16u);
    EXPECT_EQ(offsetof(leg_crypto, mki_len), 20u);
    EXPECT_EQ(offsetof(leg_crypto, flags), 21u);
    EXPECT_EQ(offsetof(leg_crypto, mki), 22u);
    EXPECT_EQ(offsetof(leg_crypto, srtp), 38u);
    EXPECT_EQ(offsetof(leg_crypto, srtcp), 104u);
    EXPECT_EQ(offsetof(leg_crypto, reserved), 170u);
    EXPECT_EQ(max_slot_mki_len, 16u);
}

TEST(Abi, HeaderExtensionRecord) {
    EXPECT_EQ(sizeof(hdrext_leg), 80u);
    EXPECT_EQ(offsetof(hdrext_leg, k_he), 0u);
    EXPECT_EQ(offsetof(hdrext_leg, k_hs), 32u);
    EXPECT_EQ(offsetof(hdrext_leg, reserved), 46u);
    EXPECT_EQ(offsetof(hdrext_leg, encrypted_ids), 48u);
    EXPECT_EQ(offsetof(hdrext_record, in), 0u);
    EXPECT_EQ(offsetof(hdrext_record, out), 80u);
    EXPECT_EQ(hdrext_payload_words, 20u);
    hdrext_leg l;
    l.set_encrypted(1);
    l.set_encrypted(14);
    l.set_encrypted(255);
    EXPECT_EQ(l.encrypted_ids[0], 0x02);
    EXPECT_EQ(l.encrypted_ids[1], 0x40);
    EXPECT_EQ(l.encrypted_ids[31], 0x80);
    EXPECT_TRUE(l.encrypted(14));
    EXPECT_FALSE(l.encrypted(13));
}

TEST(Abi, TableHeader) {
    EXPECT_EQ(sizeof(table_header), 192u);
    EXPECT_EQ(alignof(table_header), 64u);
    EXPECT_EQ(offsetof(table_header, magic), 0u);
    EXPECT_EQ(offsetof(table_header, abi_version), 8u);
    EXPECT_EQ(offsetof(table_header, header_size), 12u);
    EXPECT_EQ(offsetof(table_header, slot_size), 16u);
    EXPECT_EQ(offsetof(table_header, n_slots), 20u);
    EXPECT_EQ(offsetof(table_header, doorbell_size), 24u);
    EXPECT_EQ(offsetof(table_header, hdrext_size), 28u);
    EXPECT_EQ(offsetof(table_header, slots_offset), 32u);
    EXPECT_EQ(offsetof(table_header, doorbell_offset), 40u);
    EXPECT_EQ(offsetof(table_header, hdrext_offset), 48u);
    EXPECT_EQ(offsetof(table_header, total_size), 56u);
    EXPECT_EQ(offsetof(table_header, instance_id), 64u);
    EXPECT_EQ(offsetof(table_header, created_unix_ns), 72u);
    EXPECT_EQ(offsetof(table_header, doorbell_producer), 128u);
    EXPECT_EQ(offsetof(table_header, resync), 136u);
    EXPECT_EQ(offsetof(table_header, next_generation), 144u);
    EXPECT_EQ(offsetof(table_header, writer_pid), 152u);
}

TEST(Abi, StatusHeaderAndEntry) {
    EXPECT_EQ(sizeof(status_header), 192u);
    EXPECT_EQ(offsetof(status_header, magic), 0u);
    EXPECT_EQ(offsetof(status_header, abi_version), 8u);
    EXPECT_EQ(offsetof(status_header, header_size), 12u);
    EXPECT_EQ(offsetof(status_header, entry_size), 16u);
    EXPECT_EQ(offsetof(status_header, n_slots), 20u);
    EXPECT_EQ(offsetof(status_header, entries_offset), 24u);
    EXPECT_EQ(offsetof(status_header, total_size), 32u);
    EXPECT_EQ(offsetof(status_header, instance_id), 40u);
    EXPECT_EQ(offsetof(status_header, created_unix_ns), 48u);
    EXPECT_EQ(offsetof(status_header, doorbell_consumer), 64u);
    EXPECT_EQ(offsetof(status_header, resync_ack), 72u);
    EXPECT_EQ(offsetof(status_header, sessions_instance), 80u);
    EXPECT_EQ(offsetof(status_header, writer_pid), 128u);
    EXPECT_EQ(offsetof(status_header, heartbeat_ns), 136u);

    EXPECT_EQ(alignof(live_state), 64u);
    EXPECT_EQ(offsetof(live_state, generation), 0u);
    EXPECT_EQ(offsetof(live_state, in_index), 8u);
    EXPECT_EQ(offsetof(live_state, out_index), 16u);
    EXPECT_EQ(offsetof(live_state, srtcp_index), 24u);
    EXPECT_EQ(offsetof(live_state, packets), 32u);
    EXPECT_EQ(offsetof(live_state, octets), 40u);
    EXPECT_EQ(offsetof(live_state, auth_fail), 48u);
    EXPECT_EQ(offsetof(live_state, replay_drop), 56u);
}

TEST(Abi, SessionsLayout) {
    const auto d = layout_of(default_capacity, default_doorbell_size, false);
    EXPECT_EQ(d.slots_offset, 4096u);
    EXPECT_EQ(d.doorbell_offset, 4096u + 65536u * 448u);
    EXPECT_EQ(d.hdrext_offset, 0u);
    EXPECT_EQ(d.total_size, 4096u + 65536u * 448u + 16384u * 4u);

    const auto m = layout_of(1u << 20, default_doorbell_size, false);
    EXPECT_EQ(m.doorbell_offset, 4096u + (uint64_t{1} << 20) * 448u);
    EXPECT_EQ(m.total_size, 4096u + (uint64_t{1} << 20) * 448u + 65536u);

    const auto x = layout_of(3, 16, true); // odd count: offsets still aligned
    EXPECT_EQ(x.doorbell_offset, 4096u + 3u * 448u);
    EXPECT_EQ(x.hdrext_offset, 4096u + 3u * 448u + 64u);
    EXPECT_EQ(x.hdrext_offset % 64, 0u);
    EXPECT_EQ(x.total_size, 8192u);

    const auto s = status_layout_of(default_capacity);
    EXPECT_EQ(s.entries_offset, 4096u);
    EXPECT_EQ(s.total_size, 4096u + 65536u * 64u);
}

TEST(Abi, StatusPacking) {
    const uint64_t w = pack_index(0x12345678u, 0xabcd, pressure::srtp_soft | pressure::srtcp_expired);
    // RFC 3711 §3.3.1: i = 2^16 * ROC + SEQ is a 48-bit number, so the whole ROC fits.
    EXPECT_EQ(w, (uint64_t{1} << 63) | (uint64_t{0x9} << 48) | uint64_t{0x12345678abcd});
    const auto p = unpack_index(w);
    EXPECT_TRUE(p.valid);
    EXPECT_EQ(p.roc, 0x12345678u);
    EXPECT_EQ(p.seq, 0xabcd);
    EXPECT_EQ(p.pressure, pressure::srtp_soft | pressure::srtcp_expired);
    EXPECT_FALSE(unpack_index(0).valid);

    const auto q = unpack_index(pack_index(0xffffffffu, 0xffff, 0));
    EXPECT_EQ(q.roc, 0xffffffffu);
    EXPECT_EQ(q.packet_index(), (uint64_t{1} << 48) - 1); // the largest SRTP index

    srtcp_progress s{true, 0x7fffffffu, true, 5};
    const uint64_t sw = pack_srtcp(s);
    const auto s2 = unpack_srtcp(sw);
    EXPECT_TRUE(s2.in_valid);
    EXPECT_EQ(s2.in_index, 0x7fffffffu);
    EXPECT_TRUE(s2.out_valid);
    EXPECT_EQ(s2.out_index, 5u);
    EXPECT_FALSE(unpack_srtcp(0).in_valid);
}

} // namespace
} // namespace srtpo::table
