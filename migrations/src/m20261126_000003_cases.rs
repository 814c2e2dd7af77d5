//! Cases: reports and concerns with their history, notes, messages, witnesses, attachments,
//! linked people, declared conflicts, the narrative access log, and form drafts kept
//! between a rejected submission and its correction. Every `*_enc` column holds text
//! sealed by the field cipher (`v1:<key id>:<nonce and ciphertext>`), never plain text.

use sea_orm_migration::{prelude::*, schema::*};

use super::m20261125_000001_base::{Events, People};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum Cases {
    Table,
    Id,
    Reference,
    EventId,
    Kind,
    ReporterId,
    Status,
    OwnerId,
    CreatedAt,
    UpdatedAt,
    AckDueAt,
    AcknowledgedAt,
    ReminderSentAt,
    RelatedCaseId,
    Relation,
    Witnesses,
    SubjectEnc,
    NarrativeEnc,
    WishesEnc,
    ContactEnc,
    WitnessDetailsEnc,
}

#[derive(DeriveIden)]
enum CaseStatusChanges {
    Table,
    Id,
    CaseId,
    FromStatus,
    ToStatus,
    ActorId,
    At,
}

#[derive(DeriveIden)]
enum CaseNotes {
    Table,
    Id,
    CaseId,
    AuthorId,
    BodyEnc,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CaseMessages {
    Table,
    Id,
    CaseId,
    AuthorId,
    FromTeam,
    BodyEnc,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CaseWitnesses {
    Table,
    Id,
    CaseId,
    AddedBy,
    DetailsEnc,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CaseAttachments {
    Table,
    Id,
    CaseId,
    UploadedBy,
    Kind,
    ContentType,
    SizeBytes,
    NameEnc,
    DataEnc,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CasePeople {
    Table,
    Id,
    CaseId,
    PersonId,
    Role,
    ConfirmedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CaseConflicts {
    Table,
    Id,
    CaseId,
    PersonId,
    DeclaredAt,
}

#[derive(DeriveIden)]
enum CaseReads {
    Table,
    Id,
    CaseId,
    ReaderId,
    What,
    At,
}

#[derive(DeriveIden)]
enum CaseMatchNotices {
    Table,
    Id,
    CaseId,
    RegistrationId,
    At,
}

#[derive(DeriveIden)]
enum ConcernDrafts {
    Table,
    Id,
    PersonId,
    EventId,
    DataEnc,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum LoginLinks {
    Table,
    ReturnTo,
}

#[derive(DeriveIden)]
enum SigninRequests {
    Table,
    ReturnTo,
}

fn fk(from: (impl IntoIden, impl IntoIden), to: (impl IntoIden, impl IntoIden)) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(from.0, from.1).to(to.0, to.1).to_owned()
}

fn index(name: &str, table: impl IntoIden, cols: Vec<DynIden>) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(table);
    for c in cols {
        i.col(c);
    }
    i.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Cases::Table)
                .col(uuid(Cases::Id).primary_key())
                .col(string_len_uniq(Cases::Reference, 16))
                .col(uuid(Cases::EventId))
                .col(string_len(Cases::Kind, 20))
                .col(uuid(Cases::ReporterId))
                .col(string_len(Cases::Status, 30))
                .col(uuid_null(Cases::OwnerId))
                .col(timestamp_with_time_zone(Cases::CreatedAt))
                .col(timestamp_with_time_zone(Cases::UpdatedAt))
                .col(timestamp_with_time_zone(Cases::AckDueAt))
                .col(timestamp_with_time_zone_null(Cases::AcknowledgedAt))
                .col(timestamp_with_time_zone_null(Cases::ReminderSentAt))
                .col(uuid_null(Cases::RelatedCaseId))
                .col(string_len_null(Cases::Relation, 40))
                .col(string_len(Cases::Witnesses, 10))
                .col(text(Cases::SubjectEnc))
                .col(text(Cases::NarrativeEnc))
                .col(text(Cases::WishesEnc))
                .col(text(Cases::ContactEnc))
                .col(text_null(Cases::WitnessDetailsEnc))
                .foreign_key(&mut fk((Cases::Table, Cases::EventId), (Events::Table, Events::Id)))
                .foreign_key(&mut fk((Cases::Table, Cases::ReporterId), (People::Table, People::Id)))
                .foreign_key(&mut fk((Cases::Table, Cases::OwnerId), (People::Table, People::Id)))
                .foreign_key(&mut fk((Cases::Table, Cases::RelatedCaseId), (Cases::Table, Cases::Id)))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_cases_event_status",
            Cases::Table,
            vec![Cases::EventId.into_iden(), Cases::Status.into_iden()],
        ))
        .await?;
        m.create_index(index("ix_cases_reporter", Cases::Table, vec![Cases::ReporterId.into_iden()])).await?;

        m.create_table(
            Table::create()
                .table(CaseStatusChanges::Table)
                .col(uuid(CaseStatusChanges::Id).primary_key())
                .col(uuid(CaseStatusChanges::CaseId))
                .col(string_len_null(CaseStatusChanges::FromStatus, 30))
                .col(string_len(CaseStatusChanges::ToStatus, 30))
                .col(uuid_null(CaseStatusChanges::ActorId))
                .col(timestamp_with_time_zone(CaseStatusChanges::At))
                .foreign_key(&mut fk((CaseStatusChanges::Table, CaseStatusChanges::CaseId), (Cases::Table, Cases::Id)))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_case_status_changes_case",
            CaseStatusChanges::Table,
            vec![CaseStatusChanges::CaseId.into_iden()],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(CaseNotes::Table)
                .col(uuid(CaseNotes::Id).primary_key())
                .col(uuid(CaseNotes::CaseId))
                .col(uuid(CaseNotes::AuthorId))
                .col(text(CaseNotes::BodyEnc))
                .col(timestamp_with_time_zone(CaseNotes::CreatedAt))
                .foreign_key(&mut fk((CaseNotes::Table, CaseNotes::CaseId), (Cases::Table, Cases::Id)))
                .foreign_key(&mut fk((CaseNotes::Table, CaseNotes::AuthorId), (People::Table, People::Id)))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_case_notes_case", CaseNotes::Table, vec![CaseNotes::CaseId.into_iden()])).await?;

        m.create_table(
            Table::create()
                .table(CaseMessages::Table)
                .col(uuid(CaseMessages::Id).primary_key())
                .col(uuid(CaseMessages::CaseId))
                .col(uuid(CaseMessages::AuthorId))
                .col(boolean(CaseMessages::FromTeam))
                .col(text(CaseMessages::BodyEnc))
                .col(timestamp_with_time_zone(CaseMessages::CreatedAt))
                .foreign_key(&mut fk((CaseMessages::Table, CaseMessages::CaseId), (Cases::Table, Cases::Id)))
                .foreign_key(&mut fk((CaseMessages::Table, CaseMessages::AuthorId), (People::Table, People::Id)))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_case_messages_case", CaseMessages::Table, vec![CaseMessages::CaseId.into_iden()]))
            .await?;

        m.create_table(
            Table::create()
                .table(CaseWitnesses::Table)
                .col(uuid(CaseWitnesses::Id).primary_key())
                .col(uuid(CaseWitnesses::CaseId))
                .col(uuid(CaseWitnesses::AddedBy))
                .col(text(CaseWitnesses::DetailsEnc))
                .col(timestamp_with_time_zone(CaseWitnesses::CreatedAt))
                .foreign_key(&mut fk((CaseWitnesses::Table, CaseWitnesses::CaseId), (Cases::Table, Cases::Id)))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(CaseAttachments::Table)
                .col(uuid(CaseAttachments::Id).primary_key())
                .col(uuid(CaseAttachments::CaseId))
                .col(uuid(CaseAttachments::UploadedBy))
                .col(string_len(CaseAttachments::Kind, 20))
                .col(string_len(CaseAttachments::ContentType, 100))
                .col(big_integer(CaseAttachments::SizeBytes))
                .col(text(CaseAttachments::NameEnc))
                .col(text(CaseAttachments::DataEnc))
                .col(timestamp_with_time_zone(CaseAttachments::CreatedAt))
                .foreign_key(&mut fk((CaseAttachments::Table, CaseAttachments::CaseId), (Cases::Table, Cases::Id)))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_case_attachments_case",
            CaseAttachments::Table,
            vec![CaseAttachments::CaseId.into_iden()],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(CasePeople::Table)
                .col(uuid(CasePeople::Id).primary_key())
                .col(uuid(CasePeople::CaseId))
                .col(uuid(CasePeople::PersonId))
                .col(string_len(CasePeople::Role, 20))
                .col(uuid_null(CasePeople::ConfirmedBy))
                .col(timestamp_with_time_zone(CasePeople::CreatedAt))
                .foreign_key(&mut fk((CasePeople::Table, CasePeople::CaseId), (Cases::Table, Cases::Id)))
                .foreign_key(&mut fk((CasePeople::Table, CasePeople::PersonId), (People::Table, People::Id)))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "ux_case_people",
                CasePeople::Table,
                vec![CasePeople::CaseId.into_iden(), CasePeople::PersonId.into_iden(), CasePeople::Role.into_iden()],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        m.create_index(index("ix_case_people_person", CasePeople::Table, vec![CasePeople::PersonId.into_iden()]))
            .await?;

        m.create_table(
            Table::create()
                .table(CaseConflicts::Table)
                .col(uuid(CaseConflicts::Id).primary_key())
                .col(uuid(CaseConflicts::CaseId))
                .col(uuid(CaseConflicts::PersonId))
                .col(timestamp_with_time_zone(CaseConflicts::DeclaredAt))
                .foreign_key(&mut fk((CaseConflicts::Table, CaseConflicts::CaseId), (Cases::Table, Cases::Id)))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "ux_case_conflicts",
                CaseConflicts::Table,
                vec![CaseConflicts::CaseId.into_iden(), CaseConflicts::PersonId.into_iden()],
            )
            .unique()
            .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(CaseReads::Table)
                .col(uuid(CaseReads::Id).primary_key())
                .col(uuid(CaseReads::CaseId))
                .col(uuid(CaseReads::ReaderId))
                .col(string_len(CaseReads::What, 30))
                .col(timestamp_with_time_zone(CaseReads::At))
                .foreign_key(&mut fk((CaseReads::Table, CaseReads::CaseId), (Cases::Table, Cases::Id)))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_case_reads_case", CaseReads::Table, vec![CaseReads::CaseId.into_iden()])).await?;

        m.create_table(
            Table::create()
                .table(CaseMatchNotices::Table)
                .col(uuid(CaseMatchNotices::Id).primary_key())
                .col(uuid(CaseMatchNotices::CaseId))
                .col(uuid(CaseMatchNotices::RegistrationId))
                .col(timestamp_with_time_zone(CaseMatchNotices::At))
                .foreign_key(&mut fk((CaseMatchNotices::Table, CaseMatchNotices::CaseId), (Cases::Table, Cases::Id)))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "ux_case_match_notices",
                CaseMatchNotices::Table,
                vec![CaseMatchNotices::CaseId.into_iden(), CaseMatchNotices::RegistrationId.into_iden()],
            )
            .unique()
            .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ConcernDrafts::Table)
                .col(uuid(ConcernDrafts::Id).primary_key())
                .col(uuid(ConcernDrafts::PersonId))
                .col(uuid(ConcernDrafts::EventId))
                .col(text(ConcernDrafts::DataEnc))
                .col(timestamp_with_time_zone(ConcernDrafts::CreatedAt))
                .col(timestamp_with_time_zone(ConcernDrafts::ExpiresAt))
                .to_owned(),
        )
        .await?;

        // Sign-in links may lead back to where the person was going (e.g. the concern form).
        m.alter_table(
            Table::alter()
                .table(LoginLinks::Table)
                .add_column(string_len(LoginLinks::ReturnTo, 500).default("/me"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(SigninRequests::Table)
                .add_column(string_len(SigninRequests::ReturnTo, 500).default("/me"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(SigninRequests::Table).drop_column(SigninRequests::ReturnTo).to_owned())
            .await?;
        m.alter_table(Table::alter().table(LoginLinks::Table).drop_column(LoginLinks::ReturnTo).to_owned()).await?;
        for table in [
            ConcernDrafts::Table.into_iden(),
            CaseMatchNotices::Table.into_iden(),
            CaseReads::Table.into_iden(),
            CaseConflicts::Table.into_iden(),
            CasePeople::Table.into_iden(),
            CaseAttachments::Table.into_iden(),
            CaseWitnesses::Table.into_iden(),
            CaseMessages::Table.into_iden(),
            CaseNotes::Table.into_iden(),
            CaseStatusChanges::Table.into_iden(),
            Cases::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
